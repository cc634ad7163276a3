// Package progress renders build progress on stderr with BuildKit's
// progressui, and copies the status stream to a trace file or a cache
// metrics report when requested.
package progress

import (
	"context"

	"github.com/containerd/console"
	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/util/progress/progressui"
	"github.com/moby/buildkit/util/progress/progresswriter"
)

// EnvMode is the environment variable that replaces --progress=auto.
const EnvMode = "BUILDKIT_PROGRESS"

// ResolveMode returns the display mode for the --progress value flagValue.
// A non-empty envValue (from BUILDKIT_PROGRESS) replaces only "auto", so an
// explicit mode and an explicitly empty one are kept. NewDisplay, not this
// function, rejects unknown modes.
func ResolveMode(flagValue, envValue string) progressui.DisplayMode {
	if flagValue == string(progressui.AutoMode) && envValue != "" {
		return progressui.DisplayMode(envValue)
	}
	return progressui.DisplayMode(flagValue)
}

// display is a progresswriter.Writer that renders each status it receives.
type display struct {
	status chan *client.SolveStatus
	done   chan struct{}
	err    error
}

// NewDisplay starts rendering the statuses sent to the returned writer's
// Status channel on out. The display runs until that channel is closed, even
// when the build is canceled, so that the final state and errors are shown.
// Auto mode picks the interactive display when out is a terminal and plain
// text otherwise. Tty mode fails when out is not a terminal, and an unknown
// mode fails with "invalid progress mode".
func NewDisplay(out console.File, mode progressui.DisplayMode) (progresswriter.Writer, error) {
	d, err := progressui.NewDisplay(out, mode)
	if err != nil {
		return nil, err
	}
	w := &display{
		status: make(chan *client.SolveStatus),
		done:   make(chan struct{}),
	}
	go func() {
		defer close(w.done)
		// A background context: canceling the build must not cut the
		// display short before it has printed the canceled steps.
		_, w.err = d.UpdateFrom(context.Background(), w.status)
	}()
	return w, nil
}

func (w *display) Status() chan *client.SolveStatus { return w.status }

func (w *display) Done() <-chan struct{} { return w.done }

// Err returns the display's error; it is valid once Done is closed.
func (w *display) Err() error { return w.err }
