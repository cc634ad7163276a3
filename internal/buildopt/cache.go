package buildopt

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/moby/buildkit/client"
	"github.com/sirupsen/logrus"
)

// ParseExportCache parses the --export-cache values. A value without
// "type=" is the deprecated form: a registry reference. The mode attribute
// defaults to "min". lookupEnv supplies the GitHub Actions variables for
// type=gha and is os.LookupEnv outside of tests.
func ParseExportCache(values []string, lookupEnv func(string) (string, bool)) ([]client.CacheOptionsEntry, error) {
	var entries []client.CacheOptionsEntry
	for _, v := range values {
		if !strings.Contains(v, "type=") {
			logrus.Warn("--export-cache <ref> is deprecated. Please use --export-cache type=registry,ref=<ref>,<opt>=<optval>[,<opt>=<optval>] instead")
			entries = append(entries, client.CacheOptionsEntry{
				Type:  "registry",
				Attrs: map[string]string{"mode": "min", "ref": v},
			})
			continue
		}
		entry, err := parseCacheCSV(v, "--export-cache")
		if err != nil {
			return nil, err
		}
		if _, ok := entry.Attrs["mode"]; !ok {
			entry.Attrs["mode"] = "min"
		}
		if entry.Type == "gha" {
			if err := addGitHubEnv(entry.Attrs, lookupEnv); err != nil {
				return nil, err
			}
		}
		entries = append(entries, entry)
	}
	return entries, nil
}

// ParseImportCache parses the --import-cache values. A value without
// "type=" is the deprecated form: a registry reference. lookupEnv is as for
// ParseExportCache.
func ParseImportCache(values []string, lookupEnv func(string) (string, bool)) ([]client.CacheOptionsEntry, error) {
	var entries []client.CacheOptionsEntry
	for _, v := range values {
		if !strings.Contains(v, "type=") {
			logrus.Warn("--import-cache <ref> is deprecated. Please use --import-cache type=registry,ref=<ref>,<opt>=<optval>[,<opt>=<optval>] instead.")
			entries = append(entries, client.CacheOptionsEntry{
				Type:  "registry",
				Attrs: map[string]string{"ref": v},
			})
			continue
		}
		entry, err := parseCacheCSV(v, "--import-cache")
		if err != nil {
			return nil, err
		}
		if entry.Type == "gha" {
			if err := addGitHubEnv(entry.Attrs, lookupEnv); err != nil {
				return nil, err
			}
		}
		entries = append(entries, entry)
	}
	return entries, nil
}

// parseCacheCSV parses one type=TYPE,KEY=VALUE... value. Keys are case
// insensitive. flag names the flag in the error for a missing type.
func parseCacheCSV(value, flag string) (client.CacheOptionsEntry, error) {
	typ, attrs, err := parseTypedCSV(value)
	if err != nil {
		return client.CacheOptionsEntry{Attrs: map[string]string{}}, err
	}
	if typ == "" {
		return client.CacheOptionsEntry{Attrs: attrs}, fmt.Errorf("%s requires type=<type>", flag)
	}
	return client.CacheOptionsEntry{Type: typ, Attrs: attrs}, nil
}

// addGitHubEnv fills the url, url_v2 and token attributes of a gha cache
// from the variables that the GitHub Actions runner sets, where the value
// does not set them already. The variable names and the version switch follow
// the runner's cache toolkit (actions/toolkit, packages/cache, config.ts).
func addGitHubEnv(attrs map[string]string, lookupEnv func(string) (string, bool)) error {
	version, ok := attrs["version"]
	if !ok {
		if v, ok := lookupEnv("ACTIONS_CACHE_SERVICE_V2"); ok {
			if b, err := strconv.ParseBool(v); err == nil && b {
				version = "2"
			}
		}
	}
	if _, ok := attrs["url_v2"]; !ok && version == "2" {
		if v, ok := lookupEnv("ACTIONS_RESULTS_URL"); ok {
			attrs["url_v2"] = v
		}
	}
	if _, ok := attrs["url"]; !ok {
		if v, ok := lookupEnv("ACTIONS_CACHE_URL"); ok {
			attrs["url"] = v
		} else if v, ok := lookupEnv("ACTIONS_RESULTS_URL"); ok {
			attrs["url"] = v
		}
	}
	_, hasURL := attrs["url"]
	_, hasURLv2 := attrs["url_v2"]
	if !hasURL && !hasURLv2 {
		return errors.New("cache with type gha requires url parameter to be set")
	}
	if _, ok := attrs["token"]; !ok {
		token, ok := lookupEnv("ACTIONS_RUNTIME_TOKEN")
		if !ok {
			return errors.New("cache with type gha requires token parameter or $ACTIONS_RUNTIME_TOKEN")
		}
		attrs["token"] = token
	}
	return nil
}
