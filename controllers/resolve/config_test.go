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

package resolve

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/directus-operator/directus-operator/api/v1alpha1"
	"github.com/directus-operator/directus-operator/controllers/mirror"
	"github.com/directus-operator/directus-operator/realtime"
	"github.com/directus-operator/directus-operator/test/testutil"
)

const (
	testNS       = "apps"
	theToken     = "tok-7f3a9c-very-secret"
	thePassword  = "pw-0b1d2e-very-secret"
	theEmail     = "operator@example.com"
	tokenSecret  = "directus-token"
	credsSecret  = "directus-login"
	caConfigMap  = "directus-ca"
	caSecretName = "directus-ca-secret"
)

func secret(name string, data map[string]string) *corev1.Secret {
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: testNS, Name: name}, Data: map[string][]byte{}}
	for k, v := range data {
		s.Data[k] = []byte(v)
	}
	return s
}

func configMap(name string, data map[string]string) *corev1.ConfigMap {
	return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: testNS, Name: name}, Data: data}
}

func readerWith(objs ...client.Object) Credentials {
	return Credentials{Reader: fake.NewClientBuilder().WithScheme(testScheme()).WithObjects(objs...).Build()}
}

// tokenSubscription mirrors "messages" into a ConfigMap with a token read
// from tokenSecret; mutate changes it.
func tokenSubscription(mutate func(s *v1alpha1.DirectusSubscriptionSpec)) *v1alpha1.DirectusSubscription {
	obj := &v1alpha1.DirectusSubscription{}
	obj.Namespace, obj.Name, obj.UID, obj.Generation = testNS, "feed", "uid-1", 2
	obj.Spec.URL = "https://directus.example.com"
	obj.Spec.WebSocketPath = "/websocket"
	obj.Spec.Auth.Token = &v1alpha1.SecretKeySelector{Name: tokenSecret, Key: "token"}
	obj.Spec.Collection = "messages"
	obj.Spec.Target.ConfigMap = &v1alpha1.ConfigMapTarget{}
	if mutate != nil {
		mutate(&obj.Spec)
	}
	return obj
}

func useCredentials(emailKey, passwordKey string) func(s *v1alpha1.DirectusSubscriptionSpec) {
	return func(s *v1alpha1.DirectusSubscriptionSpec) {
		s.Auth.Token = nil
		s.Auth.Credentials = &v1alpha1.CredentialsAuth{SecretName: credsSecret, EmailKey: emailKey, PasswordKey: passwordKey}
	}
}

func TestBuildConfigReadsTheCredentialsTheAuthNames(t *testing.T) {
	t.Parallel()
	objs := []client.Object{
		secret(tokenSecret, map[string]string{"token": theToken}),
		secret(credsSecret, map[string]string{"email": theEmail, "password": thePassword, "user": "other@example.com", "pass": "other-pw"}),
	}
	cases := []struct {
		name   string
		mutate func(s *v1alpha1.DirectusSubscriptionSpec)
		want   realtime.Auth
		mode   realtime.AuthMode
	}{
		{name: "a token, handshake by default", mutate: nil, want: realtime.Auth{AccessToken: theToken}, mode: realtime.AuthHandshake},
		{name: "a token in strict mode", mutate: func(s *v1alpha1.DirectusSubscriptionSpec) { s.Auth.Mode = v1alpha1.AuthModeStrict },
			want: realtime.Auth{AccessToken: theToken}, mode: realtime.AuthStrict},
		{name: "a token in explicit handshake mode", mutate: func(s *v1alpha1.DirectusSubscriptionSpec) { s.Auth.Mode = v1alpha1.AuthModeHandshake },
			want: realtime.Auth{AccessToken: theToken}, mode: realtime.AuthHandshake},
		{name: "credentials under the default keys email and password", mutate: useCredentials("", ""),
			want: realtime.Auth{Email: theEmail, Password: thePassword}, mode: realtime.AuthHandshake},
		{name: "credentials under keys of the user's choosing", mutate: useCredentials("user", "pass"),
			want: realtime.Auth{Email: "other@example.com", Password: "other-pw"}, mode: realtime.AuthHandshake},
		{name: "credentials in strict mode", mutate: func(s *v1alpha1.DirectusSubscriptionSpec) {
			useCredentials("", "")(s)
			s.Auth.Mode = v1alpha1.AuthModeStrict
		}, want: realtime.Auth{Email: theEmail, Password: thePassword}, mode: realtime.AuthStrict},
		{name: "public access reads no Secret", mutate: func(s *v1alpha1.DirectusSubscriptionSpec) {
			s.Auth.Token = nil
			s.Auth.Public = &v1alpha1.PublicAuth{}
		}, want: realtime.Auth{}, mode: realtime.AuthPublic},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			cfg, warning, err := buildConfig(context.Background(), readerWith(objs...), tokenSubscription(tc.mutate))
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(warning).To(BeEmpty())
			g.Expect(cfg.Realtime.Auth).To(Equal(tc.want))
			g.Expect(cfg.Realtime.AuthMode).To(Equal(tc.mode))
			g.Expect(cfg.Realtime.URL).To(Equal("https://directus.example.com"))
			g.Expect(cfg.Realtime.Path).To(Equal("/websocket"))
		})
	}
}

func TestBuildConfigStallsOnMissingCredentialsAndNamesThemButNotTheValue(t *testing.T) {
	t.Parallel()
	ca := testCAPEM(t)
	withCA := func(src v1alpha1.CABundleSource) func(s *v1alpha1.DirectusSubscriptionSpec) {
		return func(s *v1alpha1.DirectusSubscriptionSpec) { s.TLS = &v1alpha1.TLSSpec{CA: &src} }
	}
	cases := []struct {
		name       string
		objs       []client.Object
		mutate     func(s *v1alpha1.DirectusSubscriptionSpec)
		reason     string
		msgContain []string
	}{
		{name: "the token Secret is missing", objs: nil,
			reason: v1alpha1.ReasonSecretNotFound, msgContain: []string{"Secret apps/directus-token not found"}},
		{name: "the token key is missing", objs: []client.Object{secret(tokenSecret, map[string]string{"other": theToken})},
			reason: v1alpha1.ReasonSecretKeyNotFound, msgContain: []string{"apps/directus-token", `"token"`}},
		{name: "the token is empty", objs: []client.Object{secret(tokenSecret, map[string]string{"token": ""})},
			reason: v1alpha1.ReasonSecretKeyNotFound, msgContain: []string{"apps/directus-token", `"token"`}},
		{name: "the token Secret is in another namespace", objs: []client.Object{func() client.Object {
			s := secret(tokenSecret, map[string]string{"token": theToken})
			s.Namespace = "elsewhere"
			return s
		}()}, reason: v1alpha1.ReasonSecretNotFound, msgContain: []string{"apps/directus-token"}},
		{name: "the credentials Secret is missing", objs: nil, mutate: useCredentials("", ""),
			reason: v1alpha1.ReasonSecretNotFound, msgContain: []string{"Secret apps/directus-login not found"}},
		{name: "the default password key is missing",
			objs:   []client.Object{secret(credsSecret, map[string]string{"email": theEmail, "pass": thePassword})},
			mutate: useCredentials("", ""), reason: v1alpha1.ReasonSecretKeyNotFound, msgContain: []string{"apps/directus-login", `"password"`}},
		{name: "a chosen email key is missing",
			objs:   []client.Object{secret(credsSecret, map[string]string{"email": theEmail, "password": thePassword})},
			mutate: useCredentials("login", ""), reason: v1alpha1.ReasonSecretKeyNotFound, msgContain: []string{"apps/directus-login", `"login"`}},
		{name: "the CA ConfigMap is missing", objs: []client.Object{secret(tokenSecret, map[string]string{"token": theToken})},
			mutate: withCA(v1alpha1.CABundleSource{ConfigMapKeyRef: &v1alpha1.ConfigMapKeySelector{Name: caConfigMap, Key: "ca.crt"}}),
			reason: v1alpha1.ReasonCANotFound, msgContain: []string{"ConfigMap apps/directus-ca", "tls.ca"}},
		{name: "the CA ConfigMap key is missing",
			objs:   []client.Object{secret(tokenSecret, map[string]string{"token": theToken}), configMap(caConfigMap, map[string]string{"other": string(ca)})},
			mutate: withCA(v1alpha1.CABundleSource{ConfigMapKeyRef: &v1alpha1.ConfigMapKeySelector{Name: caConfigMap, Key: "ca.crt"}}),
			reason: v1alpha1.ReasonCANotFound, msgContain: []string{"ConfigMap apps/directus-ca", `"ca.crt"`}},
		{name: "the CA Secret is missing", objs: []client.Object{secret(tokenSecret, map[string]string{"token": theToken})},
			mutate: withCA(v1alpha1.CABundleSource{SecretKeyRef: &v1alpha1.SecretKeySelector{Name: caSecretName, Key: "ca.crt"}}),
			reason: v1alpha1.ReasonSecretNotFound, msgContain: []string{"Secret apps/directus-ca-secret not found"}},
		{name: "the CA holds no PEM certificate",
			objs:   []client.Object{secret(tokenSecret, map[string]string{"token": theToken}), configMap(caConfigMap, map[string]string{"ca.crt": "not a certificate " + theToken})},
			mutate: withCA(v1alpha1.CABundleSource{ConfigMapKeyRef: &v1alpha1.ConfigMapKeySelector{Name: caConfigMap, Key: "ca.crt"}}),
			reason: v1alpha1.ReasonInvalidSpec, msgContain: []string{"tls.ca holds no PEM certificate"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			_, _, err := buildConfig(context.Background(), readerWith(tc.objs...), tokenSubscription(tc.mutate))
			var stalled *StalledError
			g.Expect(errors.As(err, &stalled)).To(BeTrue(), "a terminal error, got %v", err)
			g.Expect(stalled.Reason).To(Equal(tc.reason))
			for _, s := range tc.msgContain {
				g.Expect(stalled.Message).To(ContainSubstring(s))
			}
			g.Expect(err.Error()).To(Equal(stalled.Message))
			g.Expect(err.Error()).NotTo(ContainSubstring(theToken))
			g.Expect(err.Error()).NotTo(ContainSubstring(thePassword))
		})
	}
}

func TestBuildConfigReturnsAnAPIErrorForARetry(t *testing.T) {
	t.Parallel()
	g := NewWithT(t)
	c := fake.NewClientBuilder().WithScheme(testScheme()).WithInterceptorFuncs(interceptor.Funcs{
		Get: func(context.Context, client.WithWatch, client.ObjectKey, client.Object, ...client.GetOption) error {
			return apierrors.NewServiceUnavailable("etcd is slow")
		},
	}).Build()
	_, _, err := buildConfig(context.Background(), Credentials{Reader: c}, tokenSubscription(nil))
	g.Expect(err).To(HaveOccurred())
	var stalled *StalledError
	g.Expect(errors.As(err, &stalled)).To(BeFalse(), "an API error is not terminal")
	g.Expect(apierrors.IsServiceUnavailable(err)).To(BeTrue(), "the API error is wrapped")
	g.Expect(err.Error()).To(ContainSubstring("apps/directus-token"))
}

func TestBuildConfigTrustsTheCAItNames(t *testing.T) {
	t.Parallel()
	ca := testCAPEM(t)
	want := x509.NewCertPool()
	want.AppendCertsFromPEM(ca)
	cases := []struct {
		name string
		objs []client.Object
		src  v1alpha1.CABundleSource
	}{
		{name: "from a ConfigMap", objs: []client.Object{configMap(caConfigMap, map[string]string{"ca.crt": string(ca)})},
			src: v1alpha1.CABundleSource{ConfigMapKeyRef: &v1alpha1.ConfigMapKeySelector{Name: caConfigMap, Key: "ca.crt"}}},
		{name: "from a Secret", objs: []client.Object{secret(caSecretName, map[string]string{"bundle.pem": string(ca)})},
			src: v1alpha1.CABundleSource{SecretKeyRef: &v1alpha1.SecretKeySelector{Name: caSecretName, Key: "bundle.pem"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			objs := append([]client.Object{secret(tokenSecret, map[string]string{"token": theToken})}, tc.objs...)
			cfg, warning, err := buildConfig(context.Background(), readerWith(objs...), tokenSubscription(func(s *v1alpha1.DirectusSubscriptionSpec) {
				s.TLS = &v1alpha1.TLSSpec{CA: &tc.src, ServerName: "directus.internal"}
			}))
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(warning).To(BeEmpty())
			tlsc := cfg.Realtime.TLSConfig
			g.Expect(tlsc).NotTo(BeNil())
			g.Expect(tlsc.RootCAs).NotTo(BeNil())
			g.Expect(tlsc.RootCAs.Equal(want)).To(BeTrue(), "the pool holds exactly the CA")
			g.Expect(tlsc.ServerName).To(Equal("directus.internal"))
			g.Expect(tlsc.InsecureSkipVerify).To(BeFalse())
			g.Expect(tlsc.MinVersion).To(BeNumerically(">=", tls.VersionTLS12))
		})
	}
}

func TestBuildConfigWithoutTLSUsesTheSystemRoots(t *testing.T) {
	t.Parallel()
	g := NewWithT(t)
	cfg, warning, err := buildConfig(context.Background(), readerWith(secret(tokenSecret, map[string]string{"token": theToken})), tokenSubscription(nil))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(warning).To(BeEmpty())
	g.Expect(cfg.Realtime.TLSConfig).To(BeNil())
}

func TestBuildConfigWarnsWhenVerificationIsOff(t *testing.T) {
	t.Parallel()
	g := NewWithT(t)
	cfg, warning, err := buildConfig(context.Background(), readerWith(secret(tokenSecret, map[string]string{"token": theToken})),
		tokenSubscription(func(s *v1alpha1.DirectusSubscriptionSpec) { s.TLS = &v1alpha1.TLSSpec{InsecureSkipVerify: true} }))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(warning).To(ContainSubstring("tls.insecureSkipVerify is set"))
	g.Expect(warning).To(ContainSubstring("not verified"))
	g.Expect(cfg.Realtime.TLSConfig).NotTo(BeNil())
	g.Expect(cfg.Realtime.TLSConfig.InsecureSkipVerify).To(BeTrue())
}

func TestBuildConfigHashChangesWithEveryInputAndOnlyThen(t *testing.T) {
	t.Parallel()
	caA, caB := testCAPEM(t), testCAPEM(t)
	type world struct {
		objs   []client.Object
		mutate func(s *v1alpha1.DirectusSubscriptionSpec)
	}
	withCA := func(s *v1alpha1.DirectusSubscriptionSpec) {
		s.TLS = &v1alpha1.TLSSpec{CA: &v1alpha1.CABundleSource{ConfigMapKeyRef: &v1alpha1.ConfigMapKeySelector{Name: caConfigMap, Key: "ca.crt"}}}
	}
	base := world{
		objs: []client.Object{
			secret(tokenSecret, map[string]string{"token": theToken, "unused": "x"}),
			configMap(caConfigMap, map[string]string{"ca.crt": string(caA), "unused": "x"}),
		},
		mutate: withCA,
	}
	hash := func(t *testing.T, w world) string {
		t.Helper()
		cfg, _, err := buildConfig(context.Background(), readerWith(w.objs...), tokenSubscription(w.mutate))
		if err != nil {
			t.Fatal(err)
		}
		return cfg.Hash
	}
	baseHash := hash(t, base)

	cases := []struct {
		name    string
		w       world
		changes bool
	}{
		{name: "the same inputs give the same hash", w: base, changes: false},
		{name: "another value of an unused Secret key does not restart", w: world{objs: []client.Object{
			secret(tokenSecret, map[string]string{"token": theToken, "unused": "y"}),
			configMap(caConfigMap, map[string]string{"ca.crt": string(caA), "unused": "x"}),
		}, mutate: withCA}, changes: false},
		{name: "a Secret's metadata does not restart", w: world{objs: []client.Object{
			func() client.Object {
				s := secret(tokenSecret, map[string]string{"token": theToken, "unused": "x"})
				s.Labels = map[string]string{"rotated-by": "someone"}
				return s
			}(),
			configMap(caConfigMap, map[string]string{"ca.crt": string(caA), "unused": "x"}),
		}, mutate: withCA}, changes: false},
		{name: "a rotated token restarts", w: world{objs: []client.Object{
			secret(tokenSecret, map[string]string{"token": theToken + "-2", "unused": "x"}),
			configMap(caConfigMap, map[string]string{"ca.crt": string(caA), "unused": "x"}),
		}, mutate: withCA}, changes: true},
		{name: "another CA restarts", w: world{objs: []client.Object{
			secret(tokenSecret, map[string]string{"token": theToken, "unused": "x"}),
			configMap(caConfigMap, map[string]string{"ca.crt": string(caB), "unused": "x"}),
		}, mutate: withCA}, changes: true},
		{name: "another collection restarts", w: world{objs: base.objs, mutate: func(s *v1alpha1.DirectusSubscriptionSpec) {
			withCA(s)
			s.Collection = "articles"
		}}, changes: true},
		{name: "another resync interval restarts", w: world{objs: base.objs, mutate: func(s *v1alpha1.DirectusSubscriptionSpec) {
			withCA(s)
			s.ResyncInterval = &metav1.Duration{Duration: time.Hour}
		}}, changes: true},
		{name: "another token key restarts even with the same value", w: world{objs: []client.Object{
			secret(tokenSecret, map[string]string{"token": theToken, "token2": theToken, "unused": "x"}),
			configMap(caConfigMap, map[string]string{"ca.crt": string(caA), "unused": "x"}),
		}, mutate: func(s *v1alpha1.DirectusSubscriptionSpec) {
			withCA(s)
			s.Auth.Token.Key = "token2"
		}}, changes: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			h := hash(t, tc.w)
			g.Expect(h).To(MatchRegexp(`^[0-9a-f]{32}$`))
			g.Expect(h).NotTo(ContainSubstring(theToken))
			if tc.changes {
				g.Expect(h).NotTo(Equal(baseHash))
			} else {
				g.Expect(h).To(Equal(baseHash))
			}
		})
	}
}

func TestBuildConfigHashChangesWithThePassword(t *testing.T) {
	t.Parallel()
	g := NewWithT(t)
	hashWith := func(password string) string {
		cfg, _, err := buildConfig(context.Background(),
			readerWith(secret(credsSecret, map[string]string{"email": theEmail, "password": password})),
			tokenSubscription(useCredentials("", "")))
		g.Expect(err).NotTo(HaveOccurred())
		return cfg.Hash
	}
	g.Expect(hashWith(thePassword)).To(Equal(hashWith(thePassword)))
	g.Expect(hashWith(thePassword)).NotTo(Equal(hashWith(thePassword + "!")))
}

func TestBuildConfigDefaultsTheConfigMapTarget(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		target v1alpha1.ConfigMapTarget
		want   func(g Gomega, name, keyField string, layout mirror.Layout, listKey string, labels map[string]string)
	}{
		{name: "everything defaulted", target: v1alpha1.ConfigMapTarget{},
			want: func(g Gomega, name, keyField string, layout mirror.Layout, listKey string, labels map[string]string) {
				g.Expect(name).To(Equal("feed"), "the subscription's name")
				g.Expect(keyField).To(BeEmpty(), "the primary key, looked up by the runner")
				g.Expect(layout).To(Equal(mirror.PerItem))
				g.Expect(listKey).To(Equal("items.json"))
				g.Expect(labels).To(BeEmpty())
			}},
		{name: "everything set", target: v1alpha1.ConfigMapTarget{Name: "mirror", KeyField: "slug", Layout: v1alpha1.LayoutList, ListKey: "all.json",
			Labels: map[string]v1alpha1.LabelValue{"app": "web"}},
			want: func(g Gomega, name, keyField string, layout mirror.Layout, listKey string, labels map[string]string) {
				g.Expect(name).To(Equal("mirror"))
				g.Expect(keyField).To(Equal("slug"))
				g.Expect(layout).To(Equal(mirror.List))
				g.Expect(listKey).To(Equal("all.json"))
				g.Expect(labels).To(Equal(map[string]string{"app": "web"}))
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			cfg, _, err := buildConfig(context.Background(), readerWith(secret(tokenSecret, map[string]string{"token": theToken})),
				tokenSubscription(func(s *v1alpha1.DirectusSubscriptionSpec) { s.Target.ConfigMap = &tc.target }))
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(cfg.Events).To(BeNil())
			g.Expect(cfg.ConfigMap).NotTo(BeNil())
			cm := cfg.ConfigMap
			tc.want(g, cm.Name, cm.KeyField, cm.Layout, cm.ListKey, cm.Labels)
		})
	}
}

func TestBuildConfigDefaultsTheEventsTarget(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		max  int32
		want int
	}{
		{name: "60 a minute by default", max: 0, want: 60},
		{name: "the user's rate", max: 600, want: 600},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			cfg, _, err := buildConfig(context.Background(), readerWith(secret(tokenSecret, map[string]string{"token": theToken})),
				tokenSubscription(func(s *v1alpha1.DirectusSubscriptionSpec) {
					s.Target = v1alpha1.TargetSpec{Events: &v1alpha1.EventsTarget{MaxPerMinute: tc.max}}
				}))
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(cfg.ConfigMap).To(BeNil())
			g.Expect(cfg.Events).NotTo(BeNil())
			g.Expect(cfg.Events.MaxPerMinute).To(Equal(tc.want))
			g.Expect(cfg.TargetName()).To(Equal("Events"))
		})
	}
}

func TestBuildConfigDefaultsTimings(t *testing.T) {
	t.Parallel()
	d := func(x time.Duration) *metav1.Duration { return &metav1.Duration{Duration: x} }
	cases := []struct {
		name                   string
		mutate                 func(s *v1alpha1.DirectusSubscriptionSpec)
		initial, max, resync   time.Duration
		pingInterval, pongWait time.Duration
	}{
		{name: "defaults", mutate: nil, initial: 500 * time.Millisecond, max: time.Minute, resync: 10 * time.Minute},
		{name: "an empty reconnect block keeps the defaults", mutate: func(s *v1alpha1.DirectusSubscriptionSpec) { s.Reconnect = &v1alpha1.ReconnectSpec{} },
			initial: 500 * time.Millisecond, max: time.Minute, resync: 10 * time.Minute},
		{name: "only the initial delay set", mutate: func(s *v1alpha1.DirectusSubscriptionSpec) {
			s.Reconnect = &v1alpha1.ReconnectSpec{InitialDelay: d(2 * time.Second)}
		}, initial: 2 * time.Second, max: time.Minute, resync: 10 * time.Minute},
		{name: "only the max delay set", mutate: func(s *v1alpha1.DirectusSubscriptionSpec) {
			s.Reconnect = &v1alpha1.ReconnectSpec{MaxDelay: d(5 * time.Minute)}
		}, initial: 500 * time.Millisecond, max: 5 * time.Minute, resync: 10 * time.Minute},
		{name: "resync every hour", mutate: func(s *v1alpha1.DirectusSubscriptionSpec) { s.ResyncInterval = d(time.Hour) },
			initial: 500 * time.Millisecond, max: time.Minute, resync: time.Hour},
		{name: "0s turns resync off", mutate: func(s *v1alpha1.DirectusSubscriptionSpec) { s.ResyncInterval = d(0) },
			initial: 500 * time.Millisecond, max: time.Minute, resync: 0},
		{name: "heartbeat passed on", mutate: func(s *v1alpha1.DirectusSubscriptionSpec) {
			s.Heartbeat = &v1alpha1.HeartbeatSpec{Interval: d(20 * time.Second), Timeout: d(5 * time.Second)}
		}, initial: 500 * time.Millisecond, max: time.Minute, resync: 10 * time.Minute, pingInterval: 20 * time.Second, pongWait: 5 * time.Second},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			cfg, _, err := buildConfig(context.Background(), readerWith(secret(tokenSecret, map[string]string{"token": theToken})), tokenSubscription(tc.mutate))
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(cfg.Realtime.Reconnect.InitialDelay).To(Equal(tc.initial))
			g.Expect(cfg.Realtime.Reconnect.MaxDelay).To(Equal(tc.max))
			g.Expect(cfg.ResyncInterval).To(Equal(tc.resync))
			g.Expect(cfg.Realtime.PingInterval).To(Equal(tc.pingInterval), "0 leaves realtime's default")
			g.Expect(cfg.Realtime.PongTimeout).To(Equal(tc.pongWait), "0 leaves realtime's default")
		})
	}
}

func TestBuildConfigCarriesTheSubscriptionItself(t *testing.T) {
	t.Parallel()
	g := NewWithT(t)
	limit := int64(10)
	obj := tokenSubscription(func(s *v1alpha1.DirectusSubscriptionSpec) {
		s.Event = v1alpha1.EventCreate
		s.Query = &v1alpha1.DirectusQuery{Fields: []string{"id", "text"}, Limit: &limit, Sort: []string{"-id"}}
	})
	cfg, _, err := buildConfig(context.Background(), readerWith(secret(tokenSecret, map[string]string{"token": theToken})), obj)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(cfg.Name.String()).To(Equal("apps/feed"))
	g.Expect(string(cfg.UID)).To(Equal("uid-1"))
	g.Expect(cfg.Generation).To(Equal(int64(2)))
	g.Expect(cfg.Collection).To(Equal("messages"))
	g.Expect(cfg.Event).To(Equal("create"))
	g.Expect(string(cfg.Query)).To(MatchJSON(`{"fields":["id","text"],"sort":["-id"],"limit":10}`))
	g.Expect(cfg.TargetName()).To(Equal("ConfigMap/feed"))

	noQuery, _, err := buildConfig(context.Background(), readerWith(secret(tokenSecret, map[string]string{"token": theToken})), tokenSubscription(nil))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(noQuery.Query).To(BeNil())
	g.Expect(noQuery.Event).To(BeEmpty())
}

func TestBuildConfigKeepsTheTokenOutOfTheHashAndTheWarning(t *testing.T) {
	t.Parallel()
	g := NewWithT(t)
	cfg, warning, err := buildConfig(context.Background(), readerWith(secret(tokenSecret, map[string]string{"token": theToken})),
		tokenSubscription(func(s *v1alpha1.DirectusSubscriptionSpec) { s.TLS = &v1alpha1.TLSSpec{InsecureSkipVerify: true} }))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(cfg.Realtime.Auth.AccessToken).To(Equal(theToken))
	g.Expect(cfg.Hash).NotTo(ContainSubstring(theToken))
	g.Expect(warning).NotTo(ContainSubstring(theToken))
}

// testCAPEM is a new self-signed CA certificate, PEM-encoded.
func testCAPEM(t *testing.T) []byte {
	t.Helper()
	_, pem := testutil.SelfSignedCert(t, "Test CA", true)
	return pem
}

func TestBuildConfigWarnsOfPlainHTTPOutsideTheCluster(t *testing.T) {
	t.Parallel()
	cases := []struct {
		url    string
		public bool
		want   string
	}{
		{url: "http://directus.example.com", want: "url is plain http:// to directus.example.com, outside the cluster: the credentials and the data cross the network unencrypted"},
		{url: "http://directus.example.com:8055/cms", want: "use https://"},
		{url: "http://203.0.113.7:8055", want: "plain http:// to 203.0.113.7"},
		{url: "http://directus.example.com", public: true, want: "outside the cluster: the data cross the network unencrypted"},
		{url: "http://directus.svc.example.com", want: "plain http:// to directus.svc.example.com"},
		{url: "https://directus.example.com"},
		{url: "http://directus.cms.svc:8055"},
		{url: "http://directus.cms.svc.cluster.local:8055"},
		{url: "http://directus.cms.svc.cluster.local.:8055"},
		{url: "http://directus:8055"},
		{url: "http://localhost:8055"},
		{url: "http://127.0.0.1:8055"},
		{url: "http://[::1]:8055"},
	}
	for _, tc := range cases {
		t.Run(tc.url, func(t *testing.T) {
			g := NewWithT(t)
			_, warning, err := buildConfig(context.Background(), readerWith(secret(tokenSecret, map[string]string{"token": theToken})),
				tokenSubscription(func(s *v1alpha1.DirectusSubscriptionSpec) {
					s.URL = tc.url
					if tc.public {
						s.Auth = v1alpha1.DirectusAuth{Public: &v1alpha1.PublicAuth{}}
					}
				}))
			g.Expect(err).NotTo(HaveOccurred())
			if tc.want == "" {
				g.Expect(warning).To(BeEmpty())
				return
			}
			g.Expect(warning).To(ContainSubstring(tc.want))
		})
	}
}
