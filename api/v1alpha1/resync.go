/*
Copyright 2026 The directus-operator Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package v1alpha1

import (
	"fmt"
	"time"
)

// MinResyncInterval is the shortest resyncInterval other than 0s (off): a
// full read of a collection more often would hammer the server. The CRD's
// CEL rule on spec.resyncInterval says the same.
const MinResyncInterval = 30 * time.Second

// ValidateResyncInterval is spec.resyncInterval's rule (0s, or at least
// MinResyncInterval) for what is not a DirectusSubscription: the sidecar's
// --resync-interval. A test holds it to the API server's answer.
func ValidateResyncInterval(d time.Duration) error {
	if d == 0 || d >= MinResyncInterval {
		return nil
	}
	return fmt.Errorf("resync interval must be 0s (off) or at least %s, got %s", MinResyncInterval, d)
}
