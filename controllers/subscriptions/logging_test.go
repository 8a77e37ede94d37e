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
	"errors"
	"testing"

	"github.com/go-logr/logr/funcr"
	. "github.com/onsi/gomega"
)

func TestALazyLoggerWritesItsValuesWithEachLineAndNamesTheCaller(t *testing.T) {
	g := NewWithT(t)
	var lines []string
	base := funcr.New(func(prefix, args string) { lines = append(lines, prefix+" "+args) },
		funcr.Options{LogCaller: funcr.All, Verbosity: 1})

	log := WithValues(base.WithName("hub"), "DirectusSubscription", "ns/a")
	log.Info("Subscribed", "epoch", 1)
	log.WithValues("collection", "messages").WithName("sink").V(1).Info("Full read")
	log.Error(errors.New("boom"), "Write failed")
	log.V(2).Info("not shown")

	g.Expect(lines).To(HaveLen(3))
	g.Expect(lines[0]).To(HavePrefix("hub "))
	g.Expect(lines[0]).To(ContainSubstring(`"msg"="Subscribed" "DirectusSubscription"="ns/a" "epoch"=1`))
	g.Expect(lines[1]).To(HavePrefix("hub/sink "))
	g.Expect(lines[1]).To(ContainSubstring(`"DirectusSubscription"="ns/a" "collection"="messages"`))
	g.Expect(lines[2]).To(ContainSubstring(`"error"="boom"`))
	g.Expect(lines[2]).To(ContainSubstring(`"DirectusSubscription"="ns/a"`))
	for _, l := range lines {
		g.Expect(l).To(ContainSubstring(`"file"="logging_test.go"`), "the caller is the line that logged, not the wrapper")
	}
}
