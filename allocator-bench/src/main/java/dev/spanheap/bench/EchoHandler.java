package dev.spanheap.bench;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32;

/**
 * The echo server's last handler: answers each whole request with its own body (the same buffer,
 * retained, not a copy) and the body's CRC32 as eight hex digits in {@value #CHECKSUM_HEADER}; a
 * request that Netty's decoder could not parse gets a 400 naming the problem, and the connection is
 * closed after it.
 */
final class EchoHandler extends SimpleChannelInboundHandler<FullHttpRequest> {

    static final String CHECKSUM_HEADER = "X-Checksum";

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
        if (!request.decoderResult().isSuccess()) {
            sendError(ctx, HttpResponseStatus.BAD_REQUEST, "bad request: " + request.decoderResult().cause().getMessage());
            return;
        }
        ByteBuf body = request.content();
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK, body.retain());
        response.headers()
                .set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_OCTET_STREAM)
                .setInt(HttpHeaderNames.CONTENT_LENGTH, body.readableBytes())
                .set(CHECKSUM_HEADER, checksum(body));
        boolean keepAlive = HttpUtil.isKeepAlive(request);
        if (keepAlive && request.protocolVersion().equals(HttpVersion.HTTP_1_0)) {
            response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
        } else if (!keepAlive) {
            response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        }
        if (keepAlive) {
            ctx.writeAndFlush(response, ctx.voidPromise());
        } else {
            ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
        }
    }

    /** The CRC32 of the readable bytes, as eight lower-case hex digits. */
    static String checksum(ByteBuf body) {
        CRC32 crc = new CRC32();
        for (ByteBuffer part : body.nioBuffers()) {
            crc.update(part);
        }
        return String.format("%08x", crc.getValue());
    }

    /** Sends a plain-text error and closes the connection once it is written. */
    static void sendError(ChannelHandlerContext ctx, HttpResponseStatus status, String message) {
        ByteBuf text = ByteBufUtil.writeUtf8(ctx.alloc(), message + "\n");
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, text);
        response.headers()
                .set(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=" + StandardCharsets.UTF_8.name())
                .setInt(HttpHeaderNames.CONTENT_LENGTH, text.readableBytes())
                .set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ctx.close();
    }
}
