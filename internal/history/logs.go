package history

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/containerd/console"
	controlapi "github.com/moby/buildkit/api/services/control"
	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/util/progress/progresswriter"
	digest "github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/buildhost/buildctl/internal/blob"
)

// ReplayLogs streams the progress of build ref, finished or still running,
// through the progress display of the given mode onto out. The modes are
// "auto", "plain", "tty", "rawjson" and "quiet", and BUILDKIT_PROGRESS, when
// set, replaces "auto".
func ReplayLogs(ctx context.Context, cc controlapi.ControlClient, ref, mode string, out console.File) error {
	stream, err := cc.Status(ctx, &controlapi.StatusRequest{Ref: ref})
	if err != nil {
		return err
	}

	pw, err := progresswriter.NewPrinter(ctx, out, mode)
	if err != nil {
		return err
	}
	// Wait for the display to draw the last update before returning.
	defer func() { <-pw.Done() }()

	for {
		resp, err := stream.Recv()
		if err != nil {
			close(pw.Status())
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		pw.Status() <- client.NewSolveStatus(resp)
	}
}

// WriteTrace writes the OpenTelemetry trace that the daemon stored for
// build ref to w.
func WriteTrace(ctx context.Context, c *client.Client, ref string, w io.Writer) error {
	record, err := FindRecord(ctx, c.ControlClient(), ref)
	if err != nil {
		return err
	}
	if record.Trace == nil {
		return fmt.Errorf("ref %s does not have trace", ref)
	}
	dgst, err := digest.Parse(record.Trace.Digest)
	if err != nil {
		return err
	}
	desc := ocispecs.Descriptor{
		Digest:    dgst,
		Size:      record.Trace.Size,
		MediaType: record.Trace.MediaType,
	}
	return blob.Copy(ctx, c.ContentClient(), desc, w)
}
