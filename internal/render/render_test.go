package render

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/moby/buildkit/client"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/ with the current output")

// requireGolden compares got with testdata/<name>.golden.
func requireGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		require.NoError(t, os.WriteFile(path, got, 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, string(want), string(got))
}

func timeAt(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t
}

func timePtr(s string) *time.Time {
	t := timeAt(s)
	return &t
}

// usageRecords covers every optional field and each size unit.
func usageRecords() []*client.UsageInfo {
	return []*client.UsageInfo{
		{
			ID:          "k3j5x0c8hbbq1z9q8y4nt7w2a",
			Mutable:     true,
			Size:        0,
			CreatedAt:   timeAt("2026-12-04T15:19:03.228742218Z"),
			Description: "local source for context",
			UsageCount:  1,
			LastUsedAt:  timePtr("2026-12-04T15:19:04Z"),
			RecordType:  client.UsageRecordTypeLocalSource,
		},
		{
			ID:         "m26xg4q7ceqskoibe2tydwbmv",
			Size:       512,
			CreatedAt:  timeAt("2026-12-04T15:19:03Z"),
			UsageCount: 0,
		},
		{
			ID:          "jc8ewvt0vsvfmr91tsffqgh08",
			InUse:       true,
			Size:        8300,
			Parents:     []string{"m26xg4q7ceqskoibe2tydwbmv", "k3j5x0c8hbbq1z9q8y4nt7w2a"},
			CreatedAt:   timeAt("2026-12-04T15:19:03.5Z"),
			Description: "mount / from exec /bin/sh -c echo final > /final.txt",
			UsageCount:  3,
			LastUsedAt:  timePtr("2026-12-04T15:20:00.000000001Z"),
			RecordType:  client.UsageRecordTypeRegular,
		},
		{
			ID:         "s8d7f6g5h4j3k2l1q0w9e8r7t",
			Size:       5_600_000,
			Shared:     true,
			CreatedAt:  timeAt("2026-12-03T00:00:00Z"),
			UsageCount: 2,
			RecordType: client.UsageRecordTypeCacheMount,
		},
		{
			ID:         "p0o9i8u7y6t5r4e3w2q1a2s3d",
			Size:       3_000_000_000,
			CreatedAt:  timeAt("2026-12-01T10:11:12Z"),
			UsageCount: 1,
		},
	}
}

func TestDiskUsage(t *testing.T) {
	cases := []struct {
		name    string
		records []*client.UsageInfo
		opts    DiskUsageOptions
	}{
		{name: "du_table", records: usageRecords(), opts: DiskUsageOptions{Summary: true}},
		{name: "du_table_filtered", records: usageRecords(), opts: DiskUsageOptions{}},
		{name: "du_verbose", records: usageRecords(), opts: DiskUsageOptions{Verbose: true, Summary: true}},
		{name: "du_table_empty", records: nil, opts: DiskUsageOptions{Summary: true}},
		{name: "du_verbose_empty", records: nil, opts: DiskUsageOptions{Verbose: true, Summary: true}},
		{name: "du_not_shared", records: usageRecords()[:3], opts: DiskUsageOptions{Summary: true}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			DiskUsage(&buf, tc.records, tc.opts)
			requireGolden(t, tc.name, buf.Bytes())
		})
	}
}

func TestPrunePrinter(t *testing.T) {
	jsonTemplate, err := ParseTemplate("{{json .}}")
	require.NoError(t, err)

	cases := []struct {
		name    string
		records []*client.UsageInfo
		verbose bool
		tmpl    bool
	}{
		{name: "prune_table", records: usageRecords()},
		{name: "prune_table_empty", records: nil},
		{name: "prune_verbose", records: usageRecords(), verbose: true},
		{name: "prune_json", records: usageRecords(), tmpl: true},
		{name: "prune_json_empty", records: nil, tmpl: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			var p *PrunePrinter
			if tc.tmpl {
				p = NewPrunePrinter(&buf, jsonTemplate, tc.verbose)
			} else {
				p = NewPrunePrinter(&buf, nil, tc.verbose)
			}
			for _, r := range tc.records {
				require.NoError(t, p.Print(*r))
			}
			p.Finish()
			requireGolden(t, tc.name, buf.Bytes())
		})
	}
}

func testWorkers() []*client.WorkerInfo {
	return []*client.WorkerInfo{
		{
			ID: "szsf5gdqfzk8cs829fgb9xwl2",
			Labels: map[string]string{
				"org.mobyproject.buildkit.worker.snapshotter": "overlayfs",
				"org.mobyproject.buildkit.worker.executor":    "oci",
				"org.mobyproject.buildkit.worker.hostname":    "vm",
			},
			Platforms: []ocispecs.Platform{
				{OS: "linux", Architecture: "amd64"},
				{OS: "linux", Architecture: "amd64", Variant: "v2"},
				{OS: "linux", Architecture: "arm"},
			},
			GCPolicy: []client.PruneInfo{
				{
					Filter:       []string{"type==source.local", "type==exec.cachemount"},
					KeepDuration: 48 * time.Hour,
					MaxUsedSpace: 512_000_000,
				},
				{
					All:           true,
					ReservedSpace: 2_500_000_000,
					MinFreeSpace:  1_000,
					MaxUsedSpace:  999,
				},
			},
			BuildkitVersion: client.BuildkitVersion{
				Package:           "github.com/moby/buildkit",
				Version:           "v0.34.2",
				Revision:          "abc123",
				DockerfileVersion: "1.28.0",
			},
			CDIDevices: []client.CDIDevice{
				{Name: "vendor.com/gpu=0", AutoAllow: true, Annotations: map[string]string{"b": "2", "a": "1"}},
				{Name: "vendor.com/gpu=1", OnDemand: true},
			},
		},
		{
			ID:        "second",
			Platforms: []ocispecs.Platform{{OS: "windows", Architecture: "amd64"}},
		},
	}
}

func TestWorkers(t *testing.T) {
	cases := []struct {
		name    string
		workers []*client.WorkerInfo
		verbose bool
	}{
		{name: "workers_table", workers: testWorkers()},
		{name: "workers_verbose", workers: testWorkers(), verbose: true},
		{name: "workers_table_empty", workers: nil},
		{name: "workers_verbose_empty", workers: nil, verbose: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			Workers(&buf, tc.workers, tc.verbose)
			requireGolden(t, tc.name, buf.Bytes())
		})
	}
}

func TestTemplate(t *testing.T) {
	cases := []struct {
		name   string
		format string
		data   any
		want   string
	}{
		{name: "json alias", format: "json", data: map[string]int{"a": 1}, want: "{\"a\":1}\n"},
		{name: "json func", format: "{{json .}}", data: []string{"x"}, want: "[\"x\"]\n"},
		{name: "json keeps html characters", format: "{{json .}}", data: "<none>&", want: "\"<none>&\"\n"},
		{name: "nil slice is null", format: "{{json .}}", data: []*client.WorkerInfo(nil), want: "null\n"},
		{name: "text without actions", format: "hello", data: nil, want: "hello\n"},
		{name: "json of a worker", format: "{{json .}}", data: testWorkers()[1:], want: `[{"id":"second","labels":null,"platforms":[{"architecture":"amd64","os":"windows"}],"gcPolicy":null,"buildkitVersion":{"package":"","version":"","revision":""},"cdiDevices":null}]` + "\n"},
		{name: "fields and len", format: "{{range .}}{{.ID}} {{len .Platforms}}{{end}}", data: testWorkers(), want: "szsf5gdqfzk8cs829fgb9xwl2 3second 1\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			require.NoError(t, Template(&buf, tc.format, tc.data))
			require.Equal(t, tc.want, buf.String())
		})
	}
}

func TestParseTemplateErrors(t *testing.T) {
	cases := []struct {
		name    string
		format  string
		wantErr string
	}{
		{name: "unclosed action", format: "{{json", wantErr: "template: :1: unclosed action"},
		{name: "stray brace", format: "{{json .}", wantErr: "template: :1: bad character U+007D '}'"},
		{name: "unknown function", format: "{{yaml .}}", wantErr: `template: :1: function "yaml" not defined`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseTemplate(tc.format)
			require.EqualError(t, err, tc.wantErr)

			var buf bytes.Buffer
			require.EqualError(t, Template(&buf, tc.format, nil), tc.wantErr)
			require.Empty(t, buf.String())
		})
	}
}

func TestFormatSize(t *testing.T) {
	cases := []struct {
		bytes     int64
		wantSize  string
		wantSpace string
	}{
		{bytes: 0, wantSize: "0B", wantSpace: "0B"},
		{bytes: 999, wantSize: "999B", wantSpace: "999B"},
		{bytes: 1000, wantSize: "1.00kB", wantSpace: "1kB"},
		{bytes: 8300, wantSize: "8.30kB", wantSpace: "8.3kB"},
		{bytes: 10_786_543, wantSize: "10.79MB", wantSpace: "10.786543MB"},
		{bytes: 512_000_000, wantSize: "512.00MB", wantSpace: "512MB"},
		{bytes: 2_500_000_000, wantSize: "2.50GB", wantSpace: "2.5GB"},
	}
	for _, tc := range cases {
		t.Run(tc.wantSize, func(t *testing.T) {
			require.Equal(t, tc.wantSize, formatSize(tc.bytes))
			require.Equal(t, tc.wantSpace, formatSpace(tc.bytes))
		})
	}
}
