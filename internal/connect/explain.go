package connect

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/moby/buildkit/util/grpcerrors"
	"google.golang.org/grpc/codes"

	"github.com/buildhost/buildctl/internal/address"
)

// attemptRecord is the list of addresses the last call of New tried, with their outcomes.
type attemptRecord struct {
	addresses []string
	// source names where the first address came from.
	source address.Source
	// attempts holds the probe results, or nil when New did not probe.
	attempts []address.Attempt
	// unreachable is true when probing found no daemon.
	unreachable bool
	// prober diagnoses the address afterwards when New did not probe.
	prober *prober
	// newErr is the error New returned, if any.
	newErr error
	// contact records whether the daemon responded, or is nil when New
	// probed instead.
	contact *contactTracker
	// localFileErr is true when newErr comes from a TLS file that cannot be
	// loaded, which no diagnosis of the address would fix.
	localFileErr bool
}

// postMortemTimeout bounds the probe that Explain runs after a command
// failed to reach its one address.
const postMortemTimeout = time.Second

var (
	lastMu sync.Mutex
	last   *attemptRecord
)

// record stores what New tried, for Explain. buildctl connects once per
// process, so the last record belongs to the command that is running.
func record(r *attemptRecord) {
	lastMu.Lock()
	defer lastMu.Unlock()
	last = r
}

// Explain adds to err, on the lines after its own text, why buildkitd could
// not be reached at each address that New tried and how to fix it. It
// returns err unchanged when err is nil, is not a connection failure, or a
// daemon responded. The result matches address.ErrUnreachable with errors.Is.
//
// main applies Explain to every command's error before printing it, so a
// command needs no call of its own; calling it twice is harmless.
func Explain(err error) error {
	if err == nil || errors.Is(err, address.ErrUnreachable) {
		return err
	}
	lastMu.Lock()
	r := last
	lastMu.Unlock()
	if r == nil || r.localFileErr || !isConnectionError(err, r.newErr) {
		return err
	}

	if r.attempts != nil {
		if !r.unreachable {
			return err
		}
		return address.Unreachable(err, r.source, r.attempts)
	}

	// A daemon that responded before the error was reachable at the address,
	// so the error is about the connection it dropped, not the address.
	if r.contact != nil && r.contact.responded.Load() {
		return err
	}

	// New used the one address without probing. Probe it now, after the
	// failure, so that a working call pays nothing for the diagnosis.
	// The command already waited up to --timeout, so a listener that never
	// responds is declared timed out after postMortemTimeout.
	addr := r.addresses[0]
	p := *r.prober
	if p.timeout == 0 || p.timeout > postMortemTimeout {
		p.timeout = postMortemTimeout
	}
	probeErr := p.probe(context.Background(), addr)
	if probeErr == nil {
		p.responded.Close()
		return err
	}
	return address.Unreachable(err, r.source, []address.Attempt{{Address: addr, Err: probeErr}})
}

// isConnectionError reports whether err means the daemon was not reached,
// rather than a daemon that responded with an error.
func isConnectionError(err, newErr error) bool {
	if newErr != nil && errors.Is(err, newErr) {
		return true
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	switch grpcerrors.Code(err) {
	case codes.Unavailable, codes.DeadlineExceeded:
		return true
	}
	return false
}
