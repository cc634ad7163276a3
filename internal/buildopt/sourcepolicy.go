package buildopt

import (
	"encoding/json"
	"fmt"
	"os"

	spb "github.com/moby/buildkit/sourcepolicy/pb"
)

// ReadSourcePolicy reads the --source-policy-file JSON. An empty path
// returns nil, which means no policy.
func ReadSourcePolicy(path string) (*spb.Policy, error) {
	if path == "" {
		return nil, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var policy spb.Policy
	if err := json.Unmarshal(data, &policy); err != nil {
		return nil, fmt.Errorf("failed to unmarshal source-policy-file %q: %w", path, err)
	}
	return &policy, nil
}
