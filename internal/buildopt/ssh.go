package buildopt

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/moby/buildkit/session/sshforward/sshprovider"
)

// ParseSSH parses the --ssh values, each "default" or ID[=PATH[,PATH...]],
// where a PATH is an agent socket or a key file. The option raw=true
// forwards a single Unix socket as it is instead of speaking the agent
// protocol.
func ParseSSH(values []string) ([]sshprovider.AgentConfig, error) {
	configs := make([]sshprovider.AgentConfig, 0, len(values))
	for _, v := range values {
		id, paths, hasPaths := strings.Cut(v, "=")
		cfg := sshprovider.AgentConfig{ID: id}
		if hasPaths {
			cfg.Paths = []string{}
			for _, p := range strings.Split(paths, ",") {
				key, raw, ok := strings.Cut(p, "=")
				if !ok || key != "raw" {
					cfg.Paths = append(cfg.Paths, p)
					continue
				}
				b, err := strconv.ParseBool(raw)
				if err != nil {
					return nil, fmt.Errorf("invalid value for 'raw': %s: %w", raw, err)
				}
				cfg.Raw = b
			}
		}
		if cfg.Raw && len(cfg.Paths) != 1 {
			return nil, fmt.Errorf("raw mode must supply exactly one socket path for %q", cfg.ID)
		}
		configs = append(configs, cfg)
	}
	return configs, nil
}
