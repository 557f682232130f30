package dev.spanheap.bench;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.timeout.IdleStateEvent;

/**
 * Sits between the HTTP decoder and the aggregator and knows whether a request is half received,
 * so that a truncated request gets a 400 saying so: when the client shuts its side of the
 * connection mid-body, or when the connection goes quiet mid-body for the idle timeout. Netty's
 * decoder itself drops such a request silently. Between requests, the same events just close the
 * connection (after what is already written). Its state belongs to the channel's event loop.
 */
final class IncompleteRequestGuard extends ChannelDuplexHandler {

    /** Body bytes received for the request in progress, or -1 between requests. Event loop only. */
    private long bodyBytesSoFar = -1;
    /** The request's Content-Length, or -1 when it has none (chunked). Event loop only. */
    private long declaredLength = -1;

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof HttpRequest request) {
            // A request the decoder rejected is answered at once by the echo handler: nothing to guard.
            boolean parsed = request.decoderResult().isSuccess() && !(msg instanceof LastHttpContent);
            bodyBytesSoFar = parsed ? 0 : -1;
            declaredLength = parsed ? HttpUtil.getContentLength(request, -1L) : -1;
        }
        if (msg instanceof HttpContent content && bodyBytesSoFar >= 0) {
            bodyBytesSoFar += content.content().readableBytes();
        }
        if (msg instanceof LastHttpContent) {
            bodyBytesSoFar = -1;
        }
        ctx.fireChannelRead(msg);
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
        if (event instanceof IdleStateEvent || event instanceof ChannelInputShutdownEvent) {
            if (bodyBytesSoFar >= 0) {
                String why = event instanceof IdleStateEvent ? "no data for the idle timeout" : "the client closed its side";
                String expected = declaredLength >= 0 ? " of the " + declaredLength + " declared" : "";
                EchoHandler.sendError(ctx, HttpResponseStatus.BAD_REQUEST, "bad request: truncated body, " + why
                        + " after " + bodyBytesSoFar + expected + " bytes");
                bodyBytesSoFar = -1;
            } else {
                ctx.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
            }
            return;
        }
        ctx.fireUserEventTriggered(event);
    }
}
