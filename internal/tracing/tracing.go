// Package tracing records one OpenTelemetry span per buildctl command, as
// BuildKit v0.34.2's buildctl does, so that log lines and the daemon's build
// history carry the command's trace.
//
// The span's parent is the trace in the TRACEPARENT and TRACESTATE
// environment variables, which util/appcontext reads because this package
// links in BuildKit's childprocess package. Without them, the span starts a
// new trace. Spans go to the exporter
// that the OTEL_* environment variables select through BuildKit's
// util/tracing/detect (none when unset), and to the daemon through the
// delegated exporter once a client is connected (see ClientOptions).
package tracing

import (
	"context"

	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/util/tracing/delegated"
	"github.com/moby/buildkit/util/tracing/detect"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	// Reads TRACEPARENT and TRACESTATE into appcontext.Context.
	_ "github.com/moby/buildkit/util/tracing/childprocess"
	// Adds the "jaeger" exporter, chosen by OTEL_TRACES_EXPORTER=jaeger,
	// JAEGER_TRACE or OTEL_EXPORTER_JAEGER_*, as in BuildKit's buildctl.
	_ "github.com/moby/buildkit/util/tracing/detect/jaeger"
)

// discardErrors drops the errors that OpenTelemetry reports on its own, such
// as an unreachable collector, which would otherwise be logged to stderr.
type discardErrors struct{}

func (discardErrors) Handle(error) {}

// daemonExporter forwards spans to the daemon through the delegated exporter
// but drops its shutdown error.
//
// The spans still buffered when Finish runs, the command span among them,
// reach the daemon only while the client's connection is open, so main
// closes the clients (connect.Close) after Finish. The shutdown error is
// dropped because a client that a failed address probe created and closed
// stays registered with the delegated exporter, which then fails on it.
type daemonExporter struct {
	*delegated.Exporter
}

func (e daemonExporter) Shutdown(ctx context.Context) error {
	_ = e.Exporter.Shutdown(ctx)
	return nil
}

// Provider records the command span of one buildctl run.
type Provider struct {
	tp   *sdktrace.TracerProvider
	span trace.Span
}

// New returns a Provider exporting to the exporter that the OTEL_*
// environment selects. It fails on an unknown OTEL_TRACES_EXPORTER value or
// an invalid exporter setting, unless OTEL_IGNORE_ERROR is true.
func New(ctx context.Context) (*Provider, error) {
	otel.SetErrorHandler(discardErrors{})

	exporter, err := detect.NewSpanExporter(ctx)
	if err != nil {
		return nil, err
	}
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithResource(detect.Resource()),
		sdktrace.WithBatcher(exporter),
		sdktrace.WithBatcher(daemonExporter{delegated.DefaultExporter}),
	)
	return &Provider{tp: tp}, nil
}

// StartCommand starts the span named after the command, with the process
// arguments as its "command" attribute, and returns ctx carrying it. A
// second call replaces the span that Finish ends.
func (p *Provider) StartCommand(ctx context.Context, name string, args []string) context.Context {
	ctx, p.span = p.tp.Tracer("").Start(ctx, name, trace.WithAttributes(attribute.StringSlice("command", args)))
	return ctx
}

// Finish marks the span failed when cmdErr is not nil, ends it, and flushes
// every exporter. It returns the error of the flush.
func (p *Provider) Finish(cmdErr error) error {
	if p.span != nil {
		if cmdErr != nil {
			p.span.SetStatus(codes.Error, cmdErr.Error())
		}
		p.span.End()
	}
	return p.tp.Shutdown(context.TODO())
}

// ClientOptions returns the client options that trace the calls made under
// ctx's span and forward the spans to the daemon, or nil when ctx carries no
// span.
func ClientOptions(ctx context.Context) []client.ClientOpt {
	span := trace.SpanFromContext(ctx)
	if !span.SpanContext().IsValid() {
		return nil
	}
	return []client.ClientOpt{
		client.WithTracerProvider(span.TracerProvider()),
		client.WithTracerDelegate(delegated.DefaultExporter),
	}
}
