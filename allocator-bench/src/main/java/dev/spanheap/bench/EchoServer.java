package dev.spanheap.bench;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.timeout.IdleStateHandler;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * An HTTP/1.1 echo server on Netty's NIO transport: each request's body (up to
 * {@value #MAX_BODY_BYTES} bytes) comes back as the response body with its CRC32 in
 * {@value EchoHandler#CHECKSUM_HEADER}. Every buffer of the server (reads, aggregation, responses)
 * comes from the allocator it is given.
 *
 * <p>The pipeline: Netty's HTTP codec (request line up to 4 KiB, headers up to 8 KiB), a guard that
 * answers a request still incomplete after the idle timeout, Netty's aggregator (which answers 413
 * to a body over the limit), and the {@link EchoHandler}.
 */
final class EchoServer implements AutoCloseable {

    static final int MAX_BODY_BYTES = 1 << 20;
    private static final int MAX_INITIAL_LINE = 4096;
    private static final int MAX_HEADER_BYTES = 8192;
    private static final int MAX_CHUNK_BYTES = 64 * 1024;

    private final EventLoopGroup group;
    private final Channel serverChannel;

    private EchoServer(EventLoopGroup group, Channel serverChannel) {
        this.group = group;
        this.serverChannel = serverChannel;
    }

    /**
     * Binds a server to {@code host:port} (port 0 picks a free one) with {@code threads} event-loop
     * threads; a request still incomplete after {@code incompleteTimeout} of silence gets a 400.
     */
    static EchoServer start(ByteBufAllocator allocator, String host, int port, int threads, Duration incompleteTimeout)
            throws InterruptedException {
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(threads, NioIoHandler.newFactory());
        try {
            ServerBootstrap bootstrap = new ServerBootstrap()
                    .group(group)
                    .channel(NioServerSocketChannel.class)
                    .option(ChannelOption.ALLOCATOR, allocator)
                    .option(ChannelOption.SO_BACKLOG, 1024)
                    .childOption(ChannelOption.ALLOCATOR, allocator)
                    .childOption(ChannelOption.TCP_NODELAY, true)
                    // A client that shuts its output mid-body still reads the 400 that follows.
                    .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel channel) {
                            ChannelPipeline pipeline = channel.pipeline();
                            pipeline.addLast(new IdleStateHandler(incompleteTimeout.toMillis(), 0, 0, TimeUnit.MILLISECONDS));
                            pipeline.addLast(new HttpServerCodec(MAX_INITIAL_LINE, MAX_HEADER_BYTES, MAX_CHUNK_BYTES));
                            pipeline.addLast(new IncompleteRequestGuard());
                            pipeline.addLast(new HttpObjectAggregator(MAX_BODY_BYTES));
                            pipeline.addLast(new EchoHandler());
                        }
                    });
            Channel channel = bootstrap.bind(new InetSocketAddress(host, port)).sync().channel();
            return new EchoServer(group, channel);
        } catch (RuntimeException | InterruptedException e) {
            group.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS);
            throw e;
        }
    }

    /** The port the server listens on. */
    int port() {
        return ((InetSocketAddress) serverChannel.localAddress()).getPort();
    }

    /** Stops accepting, closes every connection, and waits for the event loops to end. */
    @Override
    public void close() {
        serverChannel.close().syncUninterruptibly();
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
