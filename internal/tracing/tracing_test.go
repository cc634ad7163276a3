package tracing

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

func TestClientOptionsWithoutSpan(t *testing.T) {
	require.Nil(t, ClientOptions(context.Background()))
}

func TestStartCommandKeepsParentTrace(t *testing.T) {
	t.Setenv("OTEL_TRACES_EXPORTER", "")
	const traceID = "0af7651916cd43dd8448eb211c80319c"
	parent := propagation.TraceContext{}.Extract(context.Background(),
		propagation.MapCarrier{"traceparent": "00-" + traceID + "-b7ad6b7169203331-01"})

	provider, err := New(parent)
	require.NoError(t, err)
	ctx := provider.StartCommand(parent, "build", []string{"buildctl", "build"})

	spanContext := trace.SpanFromContext(ctx).SpanContext()
	require.True(t, spanContext.IsValid())
	require.Equal(t, traceID, spanContext.TraceID().String())
	require.NotEqual(t, "b7ad6b7169203331", spanContext.SpanID().String())
	require.Len(t, ClientOptions(ctx), 2)
	require.NoError(t, provider.Finish(errors.New("build failed")))
}

func TestNewRejectsUnknownExporter(t *testing.T) {
	t.Setenv("OTEL_TRACES_EXPORTER", "bogus")
	t.Setenv("OTEL_IGNORE_ERROR", "")
	_, err := New(context.Background())
	require.EqualError(t, err, "unsupported opentelemetry exporter bogus")
}
