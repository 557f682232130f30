package dev.spanheap.bench;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * An HTTP/1.1 echo server on Netty's NIO transport: each request's body (up to
 * {@value #MAX_BODY_BYTES} bytes) comes back as the response body with its CRC32 in
 * {@value EchoHandler#CHECKSUM_HEADER}. Every buffer of the server (reads, aggregation, responses)
 * comes from the allocator it is given.
 *
 * <p>Each connection's pipeline is set up by {@link EchoChannelInitializer}.
 */
final class EchoServer implements AutoCloseable {

    static final int MAX_BODY_BYTES = 1 << 20;

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
                    .childHandler(new EchoChannelInitializer(incompleteTimeout));
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
