package buildopt

import (
	"maps"
	"strings"

	"github.com/sirupsen/logrus"
)

const buildArgPrefix = "build-arg:"

// propagatedEnv lists the client environment variables that become build
// args without being named on the command line.
var propagatedEnv = []string{"SOURCE_DATE_EPOCH"}

// ParseOpt parses the --opt values into frontend attributes. Each value is
// split at its first "=", so the value part may contain commas and further
// "=" signs. A bare "build-arg:NAME" takes the value of NAME from lookupEnv
// and is dropped when NAME is unset, so the Dockerfile default applies.
// SOURCE_DATE_EPOCH from lookupEnv becomes a build arg unless an --opt sets it.
// lookupEnv is os.LookupEnv outside of tests.
func ParseOpt(values []string, lookupEnv func(string) (string, bool)) (map[string]string, error) {
	attrs := make(map[string]string)
	for _, name := range propagatedEnv {
		if v, ok := lookupEnv(name); ok {
			logrus.WithField("variable", name).Debug("passing client environment variable as build arg")
			attrs[buildArgPrefix+name] = v
		}
	}

	// Resolve bare build args in place so that the last of two values for
	// the same key still wins.
	resolved := make([]string, 0, len(values))
	for _, v := range values {
		name, isBuildArg := strings.CutPrefix(v, buildArgPrefix)
		if isBuildArg && name != "" && !strings.Contains(name, "=") {
			envValue, ok := lookupEnv(name)
			if !ok {
				continue
			}
			v += "=" + envValue
		}
		resolved = append(resolved, v)
	}

	fromFlags, err := keyValueMap(resolved)
	if err != nil {
		return nil, err
	}
	maps.Copy(attrs, fromFlags)
	return attrs, nil
}
