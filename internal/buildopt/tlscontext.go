package buildopt

import (
	"errors"
	"strconv"
	"strings"

	"github.com/moby/buildkit/session/auth/authprovider"
	"github.com/tonistiigi/go-csvvalue"
)

// registryTLSEntry is one --registry-auth-tlscontext value.
type registryTLSEntry struct {
	host     string
	ca       string
	cert     string
	key      string
	insecure bool
}

// ParseRegistryAuthTLSContext parses the --registry-auth-tlscontext values,
// each host=HOST with ca=FILE, cert=FILE,key=FILE or insecure=true, into TLS
// settings per host. Several values for one host add up.
func ParseRegistryAuthTLSContext(values []string) (map[string]*authprovider.AuthTLSConfig, error) {
	configs := make(map[string]*authprovider.AuthTLSConfig)
	var entries []registryTLSEntry
	for _, v := range values {
		entry, err := parseRegistryTLSEntry(v)
		if err != nil {
			return nil, err
		}
		entries = append(entries, entry)
	}

	for _, e := range entries {
		cfg, ok := configs[e.host]
		if !ok {
			cfg = &authprovider.AuthTLSConfig{}
			configs[e.host] = cfg
		}
		if e.insecure {
			cfg.Insecure = true
		}
		if e.ca != "" {
			cfg.RootCAs = append(cfg.RootCAs, e.ca)
		}
		if e.cert != "" && e.key != "" {
			cfg.KeyPairs = append(cfg.KeyPairs, authprovider.TLSKeyPair{Key: e.key, Certificate: e.cert})
		}
	}
	return configs, nil
}

func parseRegistryTLSEntry(value string) (registryTLSEntry, error) {
	var e registryTLSEntry
	fields, err := csvvalue.Fields(value, nil)
	if err != nil {
		return e, err
	}
	for _, field := range fields {
		key, v, ok := strings.Cut(field, "=")
		if !ok {
			return e, invalidValueError(field, value)
		}
		switch strings.ToLower(key) {
		case "host":
			e.host = v
		case "ca":
			e.ca = v
		case "cert":
			e.cert = v
		case "key":
			e.key = v
		case "insecure":
			// BuildKit's buildctl reads an unparsable value as false.
			e.insecure, _ = strconv.ParseBool(v)
		}
	}

	if e.host == "" {
		return e, errors.New("--registry-auth-tlscontext requires host=<host>")
	}
	if e.ca == "" && !e.insecure && (e.cert == "" || e.key == "") {
		return e, errors.New("--registry-auth-tlscontext requires ca=<ca> or cert=<cert>,key=<key> or insecure=true")
	}
	if e.ca != "" && (e.cert == "") != (e.key == "") {
		return e, errors.New("--registry-auth-tlscontext requires cert=<cert>,key=<key>")
	}
	return e, nil
}
