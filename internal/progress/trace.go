package progress

import (
	"encoding/json"
	"io"

	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/util/progress/progresswriter"
)

// TeeJSON returns a writer that forwards every status to w and also writes
// it to out as one JSON object per line, the --trace file format. The
// returned wait function blocks until the status channel is closed and
// every status is written, and returns the first write error.
func TeeJSON(w progresswriter.Writer, out io.Writer) (progresswriter.Writer, func() error) {
	copies := make(chan *client.SolveStatus)
	tee := progresswriter.Tee(w, copies)
	errCh := make(chan error, 1)
	go func() {
		enc := json.NewEncoder(out)
		var firstErr error
		for s := range copies {
			if firstErr != nil {
				continue
			}
			firstErr = enc.Encode(s)
		}
		errCh <- firstErr
	}()
	return tee, func() error { return <-errCh }
}
