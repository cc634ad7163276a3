// Package history lists, prunes and updates the build records that buildkitd
// keeps after each build, and prints them in the layouts of BuildKit
// v0.34.2's buildctl ("debug histories", "prune-histories", "debug monitor").
package history

import (
	"context"
	"errors"
	"fmt"
	"io"

	controlapi "github.com/moby/buildkit/api/services/control"
)

// ForEachRecord sends one snapshot request for the daemon's build records and
// calls fn with every event until the daemon ends the stream. An error from
// fn stops the walk and is returned unchanged.
func ForEachRecord(ctx context.Context, cc controlapi.ControlClient, fn func(*controlapi.BuildHistoryEvent) error) error {
	stream, err := cc.ListenBuildHistory(ctx, &controlapi.BuildHistoryRequest{EarlyExit: true})
	if err != nil {
		return err
	}
	for {
		ev, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := fn(ev); err != nil {
			return err
		}
	}
}

// Prune deletes every record that is not pinned and calls printed with the
// event of each record it deleted. A failed deletion does not stop the
// prune: deleteErr joins all of them. err is set when reading the record
// list or printed failed, which stops the prune at once.
func Prune(ctx context.Context, cc controlapi.ControlClient, printed func(*controlapi.BuildHistoryEvent) error) (deleteErr, err error) {
	var deleteErrs []error
	err = ForEachRecord(ctx, cc, func(ev *controlapi.BuildHistoryEvent) error {
		if ev.Record == nil || ev.Record.Pinned {
			return nil
		}
		if err := deleteRecord(ctx, cc, ev.Record.Ref); err != nil {
			deleteErrs = append(deleteErrs, err)
			return nil
		}
		return printed(ev)
	})
	return errors.Join(deleteErrs...), err
}

func deleteRecord(ctx context.Context, cc controlapi.ControlClient, ref string) error {
	_, err := cc.UpdateBuildHistory(ctx, &controlapi.UpdateBuildHistoryRequest{Ref: ref, Delete: true})
	return err
}

// Change is one update of a build record, as "debug ctl" requests it.
type Change struct {
	Pin    bool
	Unpin  bool
	Delete bool
}

// Validate rejects a change that requests nothing or contradicting
// updates, with the messages BuildKit's buildctl prints.
func (c Change) Validate() error {
	switch {
	case !c.Pin && !c.Unpin && !c.Delete:
		return errors.New("must specify one of --pin, --unpin, --delete")
	case c.Pin && c.Unpin:
		return errors.New("cannot specify both --pin and --unpin")
	case c.Delete && (c.Pin || c.Unpin):
		return errors.New("cannot specify --delete with --pin or --unpin")
	}
	return nil
}

// Apply sends a validated change for the record ref. Unpin is expressed by
// sending Pinned=false, which is what the daemon stores when Delete is unset.
func (c Change) Apply(ctx context.Context, cc controlapi.ControlClient, ref string) error {
	_, err := cc.UpdateBuildHistory(ctx, &controlapi.UpdateBuildHistoryRequest{
		Ref:    ref,
		Pinned: c.Pin,
		Delete: c.Delete,
	})
	return err
}

// FindRecord returns the record ref, or an error naming ref when the daemon
// does not know it.
func FindRecord(ctx context.Context, cc controlapi.ControlClient, ref string) (*controlapi.BuildHistoryRecord, error) {
	stream, err := cc.ListenBuildHistory(ctx, &controlapi.BuildHistoryRequest{Ref: ref})
	if err != nil {
		return nil, err
	}
	ev, err := stream.Recv()
	if errors.Is(err, io.EOF) || (err == nil && ev.Record == nil) {
		return nil, fmt.Errorf("ref %s not found", ref)
	}
	if err != nil {
		return nil, err
	}
	return ev.Record, nil
}
