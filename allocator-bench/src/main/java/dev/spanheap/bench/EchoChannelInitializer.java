package dev.spanheap.bench;

import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.timeout.IdleStateHandler;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * The pipeline of each connection of the {@link EchoServer}: an idle timer, Netty's HTTP codec
 * (request line up to 4 KiB, headers up to 8 KiB), the {@link IncompleteRequestGuard}, Netty's
 * aggregator (which answers 413 to a body over {@value EchoServer#MAX_BODY_BYTES} bytes) and the
 * {@link EchoHandler}.
 */
final class EchoChannelInitializer extends ChannelInitializer<SocketChannel> {

    private static final int MAX_INITIAL_LINE = 4096;
    private static final int MAX_HEADER_BYTES = 8192;
    private static final int MAX_CHUNK_BYTES = 64 * 1024;

    private final Duration incompleteTimeout;

    EchoChannelInitializer(Duration incompleteTimeout) {
        this.incompleteTimeout = incompleteTimeout;
    }

    @Override
    protected void initChannel(SocketChannel channel) {
        ChannelPipeline pipeline = channel.pipeline();
        pipeline.addLast(new IdleStateHandler(incompleteTimeout.toMillis(), 0, 0, TimeUnit.MILLISECONDS));
        pipeline.addLast(new HttpServerCodec(MAX_INITIAL_LINE, MAX_HEADER_BYTES, MAX_CHUNK_BYTES));
        pipeline.addLast(new IncompleteRequestGuard());
        pipeline.addLast(new HttpObjectAggregator(EchoServer.MAX_BODY_BYTES));
        pipeline.addLast(new EchoHandler());
    }
}
