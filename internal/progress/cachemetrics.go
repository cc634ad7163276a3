package progress

import (
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"

	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/util/progress/progresswriter"
	digest "github.com/opencontainers/go-digest"
)

// fromStep matches the vertex name of a Dockerfile FROM step, such as
// "[stage-0 1/3] FROM docker.io/library/alpine".
var fromStep = regexp.MustCompile(`^\[.*\] FROM`)

// vertexState is the part of a vertex status that the cache metrics count.
type vertexState struct {
	name      string
	cached    bool
	completed bool
	from      bool
}

// CacheMetrics counts cached and rebuilt vertices for
// --debug-json-cache-metrics.
type CacheMetrics struct {
	vertices map[digest.Digest]*vertexState
	done     chan struct{}
}

// TeeCacheMetrics returns a writer that forwards every status to w and
// records vertex states in the returned CacheMetrics.
func TeeCacheMetrics(w progresswriter.Writer) (progresswriter.Writer, *CacheMetrics) {
	copies := make(chan *client.SolveStatus)
	tee := progresswriter.Tee(w, copies)
	m := &CacheMetrics{vertices: map[digest.Digest]*vertexState{}, done: make(chan struct{})}
	go func() {
		defer close(m.done)
		for s := range copies {
			m.record(s)
		}
	}()
	return tee, m
}

func (m *CacheMetrics) record(s *client.SolveStatus) {
	for _, v := range s.Vertexes {
		st, ok := m.vertices[v.Digest]
		if !ok {
			st = &vertexState{name: v.Name}
			m.vertices[v.Digest] = st
		}
		if fromStep.MatchString(v.Name) {
			st.from = true
		}
		if v.Cached {
			st.cached = true
		}
		if v.Completed != nil {
			st.completed = true
		}
	}
}

// cacheMetricsReport is the JSON line that closes the report. Its field
// names are those of BuildKit's buildctl v0.34.2.
type cacheMetricsReport struct {
	Total            int64 `json:"total"`
	Completed        int64 `json:"completed"`
	UserTotal        int64 `json:"user_total"`
	UserCached       int64 `json:"user_cached"`
	UserCompleted    int64 `json:"user_completed"`
	UserCacheable    int64 `json:"user_cacheable"`
	From             int64 `json:"from"`
	Miss             int64 `json:"miss"`
	ClientDurationMS int64 `json:"client_duration_ms"`
}

// Write waits until the status stream ends, then writes one "cache miss:
// NAME" line per rebuilt user step and a JSON summary line to out. Steps
// named "[internal]", "[auth]", "importing cache" or "exporting ..." are
// counted in the totals only. start is when the build command began.
func (m *CacheMetrics) Write(out io.Writer, start time.Time) error {
	<-m.done
	report := cacheMetricsReport{ClientDurationMS: time.Since(start).Milliseconds()}
	for _, v := range m.vertices {
		report.Total++
		if v.completed {
			report.Completed++
		}
		if isInternalStep(v.name) {
			continue
		}
		report.UserTotal++
		report.UserCacheable++
		if v.cached {
			report.UserCached++
		} else if !v.from {
			report.Miss++
			if _, err := fmt.Fprintf(out, "cache miss: %s\n", v.name); err != nil {
				return err
			}
		}
		if v.completed {
			report.UserCompleted++
		}
		if v.from {
			report.From++
			report.UserCacheable--
		}
	}
	data, err := json.Marshal(report)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(out, string(data))
	return err
}

func isInternalStep(name string) bool {
	for _, prefix := range []string{"[internal]", "[auth]", "importing cache", "exporting "} {
		if strings.HasPrefix(name, prefix) {
			return true
		}
	}
	return false
}
