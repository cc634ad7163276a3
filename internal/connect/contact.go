package connect

import (
	"context"
	"sync/atomic"

	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/util/grpcerrors"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
)

// contactTracker records whether a daemon responded to any call of a client.
// A connection error after that, such as buildkitd exiting in the middle of a
// build, is then not reported as an address that could not be reached.
type contactTracker struct {
	responded atomic.Bool
}

// clientOpts returns interceptors that mark the tracker on the first response:
// a unary call that returned anything but a connection error, or a stream
// that was opened, which needs a working connection.
func (c *contactTracker) clientOpts() []client.ClientOpt {
	unary := func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		err := invoker(ctx, method, req, reply, cc, opts...)
		switch grpcerrors.Code(err) {
		case codes.Unavailable, codes.DeadlineExceeded, codes.Canceled:
		default:
			c.responded.Store(true)
		}
		return err
	}
	stream := func(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
		s, err := streamer(ctx, desc, cc, method, opts...)
		if err == nil {
			c.responded.Store(true)
		}
		return s, err
	}
	return []client.ClientOpt{
		client.WithGRPCDialOption(grpc.WithChainUnaryInterceptor(unary)),
		client.WithGRPCDialOption(grpc.WithChainStreamInterceptor(stream)),
	}
}
