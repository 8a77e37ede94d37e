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

package v1alpha1_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/directus-operator/directus-operator/api/v1alpha1"
)

func TestValidateResyncIntervalAnswersAsTheAPIServerDoes(t *testing.T) {
	for i, d := range []time.Duration{0, time.Second, 29*time.Second + 999*time.Millisecond, 30 * time.Second, 10 * time.Minute, 36 * time.Hour} {
		t.Run(d.String(), func(t *testing.T) {
			g := NewWithT(t)
			spec := validSpec()
			spec["resyncInterval"] = d.String()
			apiErr := k8sClient.Create(context.Background(), subscription(fmt.Sprintf("resync-%d", i), spec), client.DryRunAll)
			err := v1alpha1.ValidateResyncInterval(d)
			g.Expect(err == nil).To(Equal(apiErr == nil), "ValidateResyncInterval: %v; API server: %v", err, apiErr)
		})
	}
	NewWithT(t).Expect(v1alpha1.ValidateResyncInterval(time.Second)).To(MatchError(ContainSubstring("0s (off) or at least 30s")))
}
