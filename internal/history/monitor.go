package history

import (
	"context"
	"fmt"
	"io"

	controlapi "github.com/moby/buildkit/api/services/control"
)

// MonitorOptions selects the events that Monitor prints.
type MonitorOptions struct {
	// Completed includes finished builds. When false, only active builds are shown.
	Completed bool
	// Ref limits the events to one build; empty means all builds.
	Ref string
}

// Monitor follows the daemon's build events and prints each one to w until
// the stream fails or ctx is cancelled. It never returns nil: the daemon keeps
// the stream open, and its end, io.EOF included, is returned as the error.
func Monitor(ctx context.Context, cc controlapi.ControlClient, opts MonitorOptions, w io.Writer) error {
	stream, err := cc.ListenBuildHistory(ctx, &controlapi.BuildHistoryRequest{
		ActiveOnly: !opts.Completed,
		Ref:        opts.Ref,
	})
	if err != nil {
		return err
	}
	for {
		ev, err := stream.Recv()
		if err != nil {
			return err
		}
		writeEvent(w, ev)
	}
}

// writeEvent prints one event as BuildKit's buildctl does. Descriptors are
// printed with their protobuf text form, whose spacing the protobuf library
// varies from one binary to another on purpose.
func writeEvent(w io.Writer, ev *controlapi.BuildHistoryEvent) {
	r := ev.Record
	if r == nil {
		// BuildKit's buildctl crashes here; print what is known instead.
		fmt.Fprintf(w, "event: %s ref:\n", ev.Type)
		return
	}
	fmt.Fprintf(w, "event: %s ref:%s\n", ev.Type, r.Ref)
	if r.NumTotalSteps != 0 {
		fmt.Fprintf(w, "  cache: %d/%d\n", r.NumCachedSteps, r.NumTotalSteps)
	}
	if r.NumWarnings != 0 {
		fmt.Fprintf(w, "  warnings: %d\n", r.NumWarnings)
	}
	if r.Logs != nil {
		fmt.Fprintf(w, "  logs: %s\n", r.Logs)
	}
	if r.Trace != nil {
		fmt.Fprintf(w, "  trace: %s\n", r.Trace)
	}
	if r.Result != nil {
		writeResult(w, "", r.Result, len(r.Result.Results) > 0)
	}
	for key, res := range r.Results {
		// BuildKit's buildctl decides between the descriptor list and the
		// deprecated single descriptor by looking at the default result, not
		// at res. Keep that choice so the output matches, and fall back to
		// res itself where BuildKit's buildctl would crash on a nil default.
		useList := len(res.Results) > 0
		if r.Result != nil {
			useList = len(r.Result.Results) > 0
		}
		writeResult(w, "["+key+"] ", res, useList)
	}
}

func writeResult(w io.Writer, prefix string, res *controlapi.BuildResultInfo, useList bool) {
	if useList {
		for _, desc := range res.Results {
			fmt.Fprintf(w, "  %sdescriptor: %s\n", prefix, desc)
		}
	} else if res.ResultDeprecated != nil {
		fmt.Fprintf(w, "  %sdescriptor: %s\n", prefix, res.ResultDeprecated)
	}
	for _, att := range res.Attestations {
		fmt.Fprintf(w, "  %sattestation: %s\n", prefix, att)
	}
}
