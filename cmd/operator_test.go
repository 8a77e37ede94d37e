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

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	"github.com/spf13/pflag"
	appsv1 "k8s.io/api/apps/v1"
	"sigs.k8s.io/yaml"

	"github.com/directus-operator/directus-operator/api/v1alpha1"
	"github.com/directus-operator/directus-operator/test/envtestutil"
)

func TestLogLevelIsCappedSoSecretsNeverReachTheLogs(t *testing.T) {
	for _, tc := range []struct {
		level string
		ok    bool
	}{
		{"info", true}, {"debug", true}, {"error", true}, {"0", true}, {"5", true},
		{"6", false}, {"8", false}, {"-1", false}, {"verbose", false},
	} {
		t.Run(tc.level, func(t *testing.T) {
			g := NewWithT(t)
			_, err := newLogger(tc.level, "json")
			if tc.ok {
				g.Expect(err).NotTo(HaveOccurred())
				return
			}
			g.Expect(err).To(HaveOccurred())
		})
	}
	_, err := newLogger("8", "json")
	NewWithT(t).Expect(err).To(MatchError(ContainSubstring("Secrets included")))
	_, err = newLogger("info", "yaml")
	NewWithT(t).Expect(err).To(MatchError(ContainSubstring("--log-format")))
}

func TestOperatorFlagsThatCannotMeanWhatTheySayAreRefused(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string // "" is accepted
	}{
		{nil, ""},
		{[]string{"--mirror-min-write-interval=0"}, ""},
		{[]string{"--mirror-min-write-interval=-1s"}, "--mirror-min-write-interval"},
		{[]string{"--max-concurrent-reconciles=0"}, "--max-concurrent-reconciles"},
		{[]string{"--kube-api-qps=0"}, "--kube-api-qps"},
		{[]string{"--kube-api-burst=0"}, "--kube-api-burst"},
		{[]string{"--max-subscriptions-per-connection=0"}, "--max-subscriptions-per-connection"},
		{[]string{"--max-concurrent-reads-per-server=0"}, "--max-concurrent-reads-per-server"},
		{[]string{"--mirror-max-write-bytes-per-second=-1"}, "--mirror-max-write-bytes-per-second"},
		{[]string{"--mirror-max-write-bytes-per-second=0"}, ""},
		{[]string{"--inline-connections=Deny"}, ""},
		{[]string{"--inline-connections=deny"}, "--inline-connections must be Allow or Deny"},
		{[]string{"--metrics-bind-address=0"}, ""},
		{[]string{"--metrics-bind-address=127.0.0.1:9443", "--metrics-secure=false"}, ""},
		{[]string{"--metrics-bind-address=8443"}, "--metrics-bind-address"},
		{[]string{"--metrics-bind-address="}, "--metrics-bind-address"},
		{[]string{"--metrics-bind-address=:"}, "--metrics-bind-address"},
		{[]string{"--metrics-cert-path=/nonexistent"}, "--metrics-cert-path"},
		{[]string{"--watch-label-selector=sharding.fluxcd.io/key=shard1"}, ""},
		{[]string{"--watch-label-selector=!sharding.fluxcd.io/key"}, ""},
		{[]string{"--watch-label-selector=sharding.fluxcd.io/key in (a,b)"}, ""},
		{[]string{"--watch-label-selector=key in shard1"}, "--watch-label-selector"},
		{[]string{"--watch-label-selector=a b"}, "--watch-label-selector"},
		{[]string{"--leader-election-id="}, "--leader-election-id"},
		{[]string{"--leader-election-retry-period=0"}, "--leader-election-retry-period"},
		{[]string{"--leader-election-renew-deadline=1s"}, "--leader-election-renew-deadline (1s) must be more than 1.2"},
		{[]string{"--leader-election-lease-duration=10s"}, "--leader-election-lease-duration (10s) must be more than"},
		{[]string{"--leader-election-lease-duration=4s", "--leader-election-renew-deadline=3s", "--leader-election-retry-period=500ms"}, ""},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			g := NewWithT(t)
			fs := pflag.NewFlagSet("operator", pflag.ContinueOnError)
			var o OperatorOptions
			o.bind(fs)
			g.Expect(fs.Parse(tc.args)).To(Succeed())
			err := o.validate()
			if tc.want == "" {
				g.Expect(err).NotTo(HaveOccurred())
				return
			}
			g.Expect(err).To(MatchError(ContainSubstring(tc.want)))
		})
	}
}

func TestMetricsAreHTTPSWithAuthenticationUnlessTurnedOff(t *testing.T) {
	g := NewWithT(t)
	parse := func(args ...string) OperatorOptions {
		fs := pflag.NewFlagSet("operator", pflag.ContinueOnError)
		var o OperatorOptions
		o.bind(fs)
		g.Expect(fs.Parse(args)).To(Succeed())
		g.Expect(o.validate()).To(Succeed())
		return o
	}
	secure := metricsOptions(parse())
	g.Expect(secure.BindAddress).To(Equal(":8443"))
	g.Expect(secure.SecureServing).To(BeTrue())
	g.Expect(secure.FilterProvider).NotTo(BeNil(), "callers are authenticated and authorised")
	g.Expect(secure.CertDir).To(BeEmpty(), "a self-signed certificate")

	plain := metricsOptions(parse("--metrics-secure=false", "--metrics-bind-address=:8080"))
	g.Expect(plain.SecureServing).To(BeFalse())
	g.Expect(plain.FilterProvider).To(BeNil())
	g.Expect(plain.BindAddress).To(Equal(":8080"))

	dir := t.TempDir()
	for _, name := range []string{"tls.crt", "tls.key"} {
		g.Expect(os.WriteFile(filepath.Join(dir, name), []byte("pem"), 0o600)).To(Succeed())
	}
	g.Expect(metricsOptions(parse("--metrics-cert-path=" + dir)).CertDir).To(Equal(dir))

	fs := pflag.NewFlagSet("operator", pflag.ContinueOnError)
	var o OperatorOptions
	o.bind(fs)
	g.Expect(fs.Parse([]string{"--metrics-cert-path=" + dir, "--metrics-secure=false"})).To(Succeed())
	g.Expect(o.validate()).To(MatchError(ContainSubstring("--metrics-cert-path is set but --metrics-secure=false")))
	g.Expect(os.Remove(filepath.Join(dir, "tls.key"))).To(Succeed())
	g.Expect(fs.Parse([]string{"--metrics-secure=true"})).To(Succeed())
	g.Expect(o.validate()).To(MatchError(ContainSubstring("tls.key")), "a missing key is refused, not replaced by a self-signed certificate")
}

// A shard's selector reaches the cache: only its subscriptions are listed
// and watched; without one, every subscription is. (That the connection
// reconcilers write only their shard's statuses is test/scale's.)
func TestTheWatchLabelSelectorScopesTheSubscriptionCache(t *testing.T) {
	g := NewWithT(t)
	for _, tc := range []struct {
		arg  string
		want string
	}{{"", ""}, {"--watch-label-selector=sharding.fluxcd.io/key=shard1", "sharding.fluxcd.io/key=shard1"}, {"--watch-label-selector=!sharding.fluxcd.io/key", "!sharding.fluxcd.io/key"}} {
		fs := pflag.NewFlagSet("operator", pflag.ContinueOnError)
		var o OperatorOptions
		o.bind(fs)
		g.Expect(fs.Parse(strings.Fields(tc.arg))).To(Succeed())
		g.Expect(o.validate()).To(Succeed())
		var got string
		for obj, by := range managerOptions(o).Cache.ByObject {
			if _, ok := obj.(*v1alpha1.DirectusSubscription); ok && by.Label != nil {
				got = by.Label.String()
			}
		}
		g.Expect(got).To(Equal(tc.want), tc.arg)
	}
}

func TestTheTestsRunTheOperatorWithTheBinarysAPIBudget(t *testing.T) {
	g := NewWithT(t)
	fs := pflag.NewFlagSet("operator", pflag.ContinueOnError)
	var o OperatorOptions
	o.bind(fs)
	g.Expect(fs.Parse(nil)).To(Succeed())
	g.Expect(o.KubeAPIQPS).To(BeEquivalentTo(envtestutil.DefaultKubeAPIQPS))
	g.Expect(o.KubeAPIBurst).To(Equal(envtestutil.DefaultKubeAPIBurst))
}

func TestTheManagerManifestPassesOnlyFlagsTheOperatorHas(t *testing.T) {
	g := NewWithT(t)
	var dep appsv1.Deployment
	for _, doc := range sampleDocs(t, filepath.Join("..", "manager", "manager.yaml")) {
		if strings.Contains(string(doc), "kind: Deployment") {
			g.Expect(yaml.Unmarshal(doc, &dep)).To(Succeed())
		}
	}
	args := dep.Spec.Template.Spec.Containers[0].Args
	g.Expect(args).NotTo(BeEmpty())
	g.Expect(args[0]).To(Equal("operator"))
	cmd, rest, err := newRootCommand("directus-operator", &cli{}).Find(args)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(cmd.Name()).To(Equal("operator"))
	g.Expect(cmd.ParseFlags(rest)).To(Succeed())
	g.Expect(cmd.Flags().Args()).To(BeEmpty())
}
