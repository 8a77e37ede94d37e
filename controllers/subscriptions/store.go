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

package subscriptions

import (
	"context"

	"github.com/directus-operator/directus-operator/controllers/mirror"
)

// Results of Store.Apply, as counted in directus_operator_target_writes_total.
const (
	resultSuccess = "success"
	resultSkipped = "skipped"
)

// Store is where a mirror is written: a ConfigMap for the operator, a
// directory or a ConfigMap for the sidecar.
type Store interface {
	// Apply makes the target hold r. It returns "success", or "skipped"
	// when the target already held it. A *TargetError tells why a write is
	// refused for good (until the input changes).
	Apply(ctx context.Context, r mirror.Rendered) (string, error)
	// Name is what status.target shows, e.g. ConfigMap/messages.
	Name() string
}

// sizeLimited is a Store that cannot hold more than MaxSize bytes of data:
// a mirror over it is not written at all rather than written in part.
type sizeLimited interface {
	MaxSize() int
}

// TargetError is a write that retrying cannot fix, with a condition reason.
type TargetError struct {
	Reason, Message string
	// Backoff makes the writer wait (up to 30s) before it tries again even
	// when changes keep coming, for refusals that cost API calls to find
	// out (a ConfigMap owned by someone else).
	Backoff bool
}

func (e *TargetError) Error() string { return e.Message }
