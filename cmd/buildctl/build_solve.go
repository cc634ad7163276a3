package main

import (
	"context"
	"io"
	"time"

	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/frontend"
	gateway "github.com/moby/buildkit/frontend/gateway/client"
	"github.com/moby/buildkit/session"
	"github.com/moby/buildkit/util/progress/progresswriter"
	"github.com/sirupsen/logrus"
	"golang.org/x/sync/errgroup"

	"github.com/buildhost/buildctl/internal/buildopt"
	"github.com/buildhost/buildctl/internal/progress"
)

// solveRequest is everything solve needs besides the client.
type solveRequest struct {
	opt client.SolveOpt
	// def is the LLB definition read from stdin, or nil with --frontend.
	def          *llb.Definition
	display      progresswriter.Writer
	files        *reportFiles
	metadataFile string
	// start is when the command began, for the cache metrics duration.
	start time.Time
	// stdout receives the result of a frontend subrequest.
	stdout io.Writer
}

// solve runs the build on the daemon while the display renders its progress.
// Canceling ctx, as SIGINT and SIGTERM do, cancels the build on the daemon.
// The display still prints the final state of every step before solve returns.
func solve(ctx context.Context, c *client.Client, req solveRequest) error {
	eg, ctx := errgroup.WithContext(ctx)

	pw := req.display
	if req.files.trace != nil {
		var waitTrace func() error
		pw, waitTrace = progress.TeeJSON(pw, req.files.trace)
		eg.Go(waitTrace)
	}
	var metrics *progress.CacheMetrics
	if req.files.cacheMetrics != nil {
		logrus.Infof("writing JSON cache metrics to %s", req.files.cacheMetrics.Name())
		pw, metrics = progress.TeeCacheMetrics(pw)
	}
	mw := progresswriter.NewMultiWriter(pw)
	loggers := attachProgressLoggers(mw, req.opt.Session)

	var subrequestResult map[string][]byte
	eg.Go(func() error {
		defer func() {
			for _, w := range loggers {
				close(w.Status())
			}
		}()
		statusCh := progresswriter.ResetTime(mw.WithPrefix("", false)).Status()
		resp, err := c.Build(ctx, req.opt, "buildctl", frontendBuildFunc(req, &subrequestResult), statusCh)
		if err != nil {
			return err
		}
		for k, v := range resp.ExporterResponse {
			logrus.WithField("key", k).WithField("value", v).Debug("exporter response")
		}
		if req.metadataFile != "" && resp.ExporterResponse != nil {
			return buildopt.WriteMetadataFile(req.metadataFile, resp.ExporterResponse)
		}
		return nil
	})
	eg.Go(func() error {
		<-pw.Done()
		return pw.Err()
	})

	err := eg.Wait()
	if err == nil {
		err = printSubrequestResult(req.stdout, subrequestResult)
	}
	if metrics != nil {
		// Written last so that on stdout the summary is the final line.
		if metricsErr := metrics.Write(req.files.cacheMetrics, req.start); metricsErr != nil {
			logrus.WithError(metricsErr).Warn("failed to write cache metrics")
		}
	}
	return err
}

// attachProgressLoggers routes the progress of session services that report
// their own steps, such as registry authentication, into the display. The
// caller closes the returned writers once the build ends.
func attachProgressLoggers(mw *progresswriter.MultiWriter, attachables []session.Attachable) []progresswriter.Writer {
	var writers []progresswriter.Writer
	for _, a := range attachables {
		s, ok := a.(interface {
			SetLogger(progresswriter.Logger)
		})
		if !ok {
			continue
		}
		w := mw.WithPrefix("", false)
		s.SetLogger(func(st *client.SolveStatus) {
			w.Status() <- st
		})
		writers = append(writers, w)
	}
	return writers
}

// frontendBuildFunc returns the gateway function that solves the frontend or
// the LLB definition. For a subrequest (--opt requestid=...) it stores the
// result metadata in subrequestResult.
func frontendBuildFunc(req solveRequest, subrequestResult *map[string][]byte) gateway.BuildFunc {
	return func(ctx context.Context, gc gateway.Client) (*gateway.Result, error) {
		sreq := gateway.SolveRequest{
			Frontend:    req.opt.Frontend,
			FrontendOpt: req.opt.FrontendAttrs,
		}
		for _, e := range req.opt.CacheImports {
			sreq.CacheImports = append(sreq.CacheImports, frontend.CacheOptionsEntry{Type: e.Type, Attrs: e.Attrs})
		}
		if req.def != nil {
			sreq.Definition = req.def.ToPB()
		}

		_, isSubrequest := sreq.FrontendOpt["requestid"]
		if _, ok := sreq.FrontendOpt["frontend.caps"]; isSubrequest && !ok {
			sreq.FrontendOpt["frontend.caps"] = "moby.buildkit.frontend.subrequests"
		}

		res, err := gc.Solve(ctx, sreq)
		if err != nil {
			return nil, err
		}
		if isSubrequest && res != nil {
			*subrequestResult = res.Metadata
		}
		return res, nil
	}
}
