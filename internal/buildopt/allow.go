package buildopt

import (
	"github.com/moby/buildkit/util/entitlements"
)

// ValidateAllow checks that each --allow value names an entitlement that
// BuildKit defines, such as network.host, security.insecure or device.
func ValidateAllow(values []string) error {
	for _, v := range values {
		if _, _, err := entitlements.Parse(v); err != nil {
			return err
		}
	}
	return nil
}
