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
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/directus-operator/directus-operator/test/envtestutil"
)

var k8sClient client.Client

func TestMain(m *testing.M) {
	flag.Parse()
	if fuzzing() {
		// go test -fuzz runs the fuzz target alone, in worker processes
		// that would each start an API server it does not use.
		os.Exit(m.Run())
	}
	env, cfg, err := envtestutil.Start()
	if err != nil {
		println(err.Error())
		os.Exit(1)
	}
	k8sClient, err = client.New(cfg, client.Options{Scheme: runtime.NewScheme()})
	if err != nil {
		println(err.Error())
		os.Exit(1)
	}
	code := m.Run()
	_ = env.Stop()
	os.Exit(code)
}

// fuzzing reports whether go test -fuzz runs this process (the coordinator
// or a worker).
func fuzzing() bool {
	for _, name := range []string{"test.fuzz", "test.fuzzworker"} {
		if f := flag.Lookup(name); f != nil && f.Value.String() != "" && f.Value.String() != "false" {
			return true
		}
	}
	return false
}

// validSpec is a spec the API accepts; each bad case changes one thing.
func validSpec() map[string]any {
	return map[string]any{
		"url":        "https://directus.example.com",
		"auth":       map[string]any{"token": map[string]any{"name": "directus", "key": "token"}},
		"collection": "messages",
		"target":     map[string]any{"configMap": map[string]any{}},
	}
}

func subscription(name string, spec map[string]any) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "realtime.directus-operator.io/v1alpha1",
		"kind":       "DirectusSubscription",
		"metadata":   map[string]any{"name": name, "namespace": "default"},
		"spec":       spec,
	}}
	return u
}

func TestAPIServerRefusesWrongSpecsWithAMessageThatSaysWhatToFix(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(spec map[string]any)
		want   string
	}{
		{"two auth methods", func(s map[string]any) {
			s["auth"].(map[string]any)["public"] = map[string]any{}
		}, "auth: set exactly one of token, credentials or public"},
		{"no auth method", func(s map[string]any) { s["auth"] = map[string]any{} },
			"auth: set exactly one of token, credentials or public"},
		{"none of the targets", func(s map[string]any) { s["target"] = map[string]any{} },
			"target: set exactly one of configMap, secret or events"},
		{"a configMap and a secret", func(s map[string]any) {
			s["target"] = map[string]any{"configMap": map[string]any{}, "secret": map[string]any{}}
		}, "target: set exactly one of configMap, secret or events"},
		{"a Secret name Kubernetes would refuse", func(s map[string]any) {
			s["target"] = map[string]any{"secret": map[string]any{"name": "My_Mirror"}}
		}, "spec.target.secret.name: Invalid value: \"My_Mirror\": name must be a valid ConfigMap or Secret name"},
		{"an unknown deletion policy", func(s map[string]any) {
			s["target"] = map[string]any{"configMap": map[string]any{}, "deletionPolicy": "Orphan"}
		}, `supported values: "Delete", "Retain"`},
		{"a template with the List layout", func(s map[string]any) {
			s["target"] = map[string]any{"configMap": map[string]any{"layout": "List", "template": map[string]any{"key": "a.yaml", "text": "x"}}}
		}, "template replaces layout"},
		{"a template key that is no data key", func(s map[string]any) {
			s["target"] = map[string]any{"secret": map[string]any{"template": map[string]any{"key": "conf/a.yaml", "text": "x"}}}
		}, "spec.target.secret.template.key"},
		{"both targets", func(s map[string]any) {
			s["target"] = map[string]any{"configMap": map[string]any{}, "events": map[string]any{}}
		}, "target: set exactly one of configMap, secret or events"},
		{"a url that is not http(s)", func(s map[string]any) { s["url"] = "ftp://directus.example.com" },
			"url must be an http:// or https:// URL"},
		{"a url that is no url at all", func(s map[string]any) { s["url"] = "directus.example.com" },
			"url must be an http:// or https:// URL"},
		{"a url carrying a token in its query", func(s map[string]any) { s["url"] = "https://d.example.com/?access_token=x" },
			"url must not contain a query string"},
		{"an empty collection", func(s map[string]any) { s["collection"] = "" },
			"spec.collection"},
		{"no collection", func(s map[string]any) { delete(s, "collection") },
			"spec.collection: Required value"},
		{"an unknown event", func(s map[string]any) { s["event"] = "upsert" },
			`supported values: "create", "update", "delete"`},
		{"a query that is not an object", func(s map[string]any) { s["query"] = "fields=id" },
			"spec.query: Invalid value"},
		{"a query limit that is not a number", func(s map[string]any) { s["query"] = map[string]any{"limit": "ten"} },
			"spec.query.limit: Invalid value: \"string\""},
		{"a query limit of zero", func(s map[string]any) { s["query"] = map[string]any{"limit": 0} },
			"query.limit must be -1 (no limit) or at least 1"},
		{"query fields as one string", func(s map[string]any) { s["query"] = map[string]any{"fields": "id,text"} },
			"spec.query.fields: Invalid value"},
		{"a query filter that is not an object", func(s map[string]any) { s["query"] = map[string]any{"filter": []any{"a"}} },
			"spec.query.filter: Invalid value"},
		{"a Secret ref without a key", func(s map[string]any) {
			s["auth"] = map[string]any{"token": map[string]any{"name": "directus"}}
		}, "spec.auth.token.key: Required value"},
		{"a Secret ref without a name", func(s map[string]any) {
			s["auth"] = map[string]any{"token": map[string]any{"key": "token"}}
		}, "spec.auth.token.name: Required value"},
		{"credentials without a Secret", func(s map[string]any) {
			s["auth"] = map[string]any{"credentials": map[string]any{}}
		}, "spec.auth.credentials.secretName: Required value"},
		{"strict mode with public access", func(s map[string]any) {
			s["auth"] = map[string]any{"public": map[string]any{}, "mode": "strict"}
		}, "auth.mode strict needs a token or credentials"},
		{"an unknown auth mode", func(s map[string]any) {
			s["auth"].(map[string]any)["mode"] = "public"
		}, `supported values: "handshake", "strict"`},
		{"a CA and insecureSkipVerify together", func(s map[string]any) {
			s["tls"] = map[string]any{"insecureSkipVerify": true, "ca": map[string]any{"configMapKeyRef": map[string]any{"name": "ca", "key": "ca.crt"}}}
		}, "tls: set either ca or insecureSkipVerify, not both"},
		{"a CA from two sources", func(s map[string]any) {
			s["tls"] = map[string]any{"ca": map[string]any{
				"configMapKeyRef": map[string]any{"name": "ca", "key": "ca.crt"},
				"secretKeyRef":    map[string]any{"name": "ca", "key": "ca.crt"}}}
		}, "tls.ca: set exactly one of secretKeyRef or configMapKeyRef"},
		{"insecureSkipVerify on an http url", func(s map[string]any) {
			s["url"] = "http://directus.example.com"
			s["tls"] = map[string]any{"insecureSkipVerify": true}
		}, "tls.insecureSkipVerify only makes sense for an https:// url"},
		{"a resync interval that would hammer the server", func(s map[string]any) { s["resyncInterval"] = "5s" },
			"resyncInterval must be 0s (off) or at least 30s"},
		{"a ConfigMap name Kubernetes would refuse", func(s map[string]any) {
			s["target"] = map[string]any{"configMap": map[string]any{"name": "My_Mirror"}}
		}, "spec.target.configMap.name: Invalid value: \"My_Mirror\": name must be a valid ConfigMap or Secret name"},
		{"an unknown layout", func(s map[string]any) {
			s["target"] = map[string]any{"configMap": map[string]any{"layout": "Table"}}
		}, `supported values: "PerItem", "List"`},
		{"a reconnect delay range upside down", func(s map[string]any) {
			s["reconnect"] = map[string]any{"initialDelay": "5m", "maxDelay": "1m"}
		}, "reconnect.initialDelay must not exceed reconnect.maxDelay"},
		{"a websocket path without a leading slash", func(s map[string]any) { s["websocketPath"] = "websocket" },
			"spec.websocketPath"},
		{"an events rate of zero", func(s map[string]any) {
			s["target"] = map[string]any{"events": map[string]any{"maxPerMinute": 0}}
		}, "spec.target.events.maxPerMinute"},
		{"a url carrying a user and password", func(s map[string]any) { s["url"] = "https://admin:hunter2@directus.example.com" },
			"url must not contain a user or password"},
		{"a url with a password and a scheme that is not http(s)", func(s map[string]any) { s["url"] = "ftp://admin:hunter2@directus.example.com" },
			"spec.url: Forbidden: url must not contain a user or password"},
		{"a url with a password that is no url at all", func(s map[string]any) { s["url"] = "https://admin:hunter2@" },
			"spec.url: Forbidden: url must not contain a user or password"},
		{"a url with a password and a token in its query", func(s map[string]any) { s["url"] = "https://admin:hunter2@d.example.com/?access_token=x" },
			"spec.url: Forbidden: url must not contain a user or password"},
		{"a url carrying a user only", func(s map[string]any) { s["url"] = "http://admin@directus.cms.svc:8055/" },
			"url must not contain a user or password"},
		{"a token Secret name Kubernetes would refuse", func(s map[string]any) {
			s["auth"] = map[string]any{"token": map[string]any{"name": "Directus_Token", "key": "token"}}
		}, "spec.auth.token.name: Invalid value: \"Directus_Token\": name must be a valid Secret name"},
		{"a credentials Secret name Kubernetes would refuse", func(s map[string]any) {
			s["auth"] = map[string]any{"credentials": map[string]any{"secretName": "directus/login"}}
		}, "spec.auth.credentials.secretName: Invalid value: \"directus/login\": secretName must be a valid Secret name"},
		{"a CA Secret name Kubernetes would refuse", func(s map[string]any) {
			s["tls"] = map[string]any{"ca": map[string]any{"secretKeyRef": map[string]any{"name": "-ca", "key": "ca.crt"}}}
		}, "spec.tls.ca.secretKeyRef.name: Invalid value: \"-ca\": name must be a valid Secret name"},
		{"a CA ConfigMap name Kubernetes would refuse", func(s map[string]any) {
			s["tls"] = map[string]any{"ca": map[string]any{"configMapKeyRef": map[string]any{"name": "CA Bundle", "key": "ca.crt"}}}
		}, "spec.tls.ca.configMapKeyRef.name: Invalid value: \"CA Bundle\": name must be a valid ConfigMap name"},
		{"a CA ConfigMap key Kubernetes would refuse", func(s map[string]any) {
			s["tls"] = map[string]any{"ca": map[string]any{"configMapKeyRef": map[string]any{"name": "ca", "key": "ca/crt"}}}
		}, "spec.tls.ca.configMapKeyRef.key"},
		{"a ConfigMap target name longer than Kubernetes allows", func(s map[string]any) {
			s["target"] = map[string]any{"configMap": map[string]any{"name": strings.Repeat("a", 254)}}
		}, "spec.target.configMap.name: Too long"},
		{"a TLS server name with a scheme", func(s map[string]any) {
			s["tls"] = map[string]any{"serverName": "https://directus.example.com"}
		}, "tls.serverName must be a DNS name"},
		{"a TLS server name with a port", func(s map[string]any) {
			s["tls"] = map[string]any{"serverName": "directus.example.com:443"}
		}, "tls.serverName must be a DNS name"},
		{"a label key with two slashes", func(s map[string]any) {
			s["target"] = map[string]any{"configMap": map[string]any{"labels": map[string]any{"example.com/a/b": "x"}}}
		}, "spec.target.configMap.labels: Invalid value: labels: invalid label key example.com/a/b: a key is an optional DNS subdomain prefix"},
		{"a label key with spaces", func(s map[string]any) {
			s["target"] = map[string]any{"configMap": map[string]any{"labels": map[string]any{"my label": "x"}}}
		}, "spec.target.configMap.labels: Invalid value: labels: invalid label key my label"},
		{"a label key name longer than 63", func(s map[string]any) {
			s["target"] = map[string]any{"configMap": map[string]any{"labels": map[string]any{strings.Repeat("k", 64): "x"}}}
		}, "spec.target.configMap.labels: Invalid value: labels: invalid label key k"},
		{"a label value longer than 63", func(s map[string]any) {
			s["target"] = map[string]any{"configMap": map[string]any{"labels": map[string]any{"team": strings.Repeat("v", 64)}}}
		}, "spec.target.configMap.labels.team: Too long: may not be more than 63 bytes"},
		{"a label value with a slash", func(s map[string]any) {
			s["target"] = map[string]any{"configMap": map[string]any{"labels": map[string]any{"ok": "fine", "team": "a/b"}}}
		}, "spec.target.configMap.labels[team]: Invalid value: \"a/b\": a label value is empty or at most 63 letters"},
		{"an annotation key with an uppercase-free prefix but a bad name", func(s map[string]any) {
			s["target"] = map[string]any{"configMap": map[string]any{"annotations": map[string]any{"example.com/-owner": "x"}}}
		}, "spec.target.configMap.annotations: Invalid value: annotations: invalid annotation key example.com/-owner"},
		{"neither url nor connectionRef", func(s map[string]any) { delete(s, "url"); delete(s, "auth") },
			"set exactly one of url (with auth: a connection of this subscription's own) or connectionRef"},
		{"both url and connectionRef", func(s map[string]any) { s["connectionRef"] = map[string]any{"name": "cms"} },
			"set exactly one of url"},
		{"a url without auth", func(s map[string]any) { delete(s, "auth") },
			"auth is required with url"},
		{"a connectionRef with auth of its own", func(s map[string]any) {
			delete(s, "url")
			s["connectionRef"] = map[string]any{"name": "cms"}
		}, "with connectionRef, auth, tls, websocketPath, heartbeat and reconnect come from the connection"},
		{"a connectionRef with a heartbeat of its own", func(s map[string]any) {
			delete(s, "url")
			delete(s, "auth")
			s["connectionRef"] = map[string]any{"name": "cms"}
			s["heartbeat"] = map[string]any{"interval": "10s"}
		}, "with connectionRef, auth, tls, websocketPath, heartbeat and reconnect come from the connection"},
		{"a connectionRef of an unknown kind", func(s map[string]any) {
			delete(s, "url")
			delete(s, "auth")
			s["connectionRef"] = map[string]any{"name": "cms", "kind": "SecretStore"}
		}, `supported values: "DirectusConnection", "ClusterDirectusConnection"`},
		{"a connectionRef name Kubernetes would refuse", func(s map[string]any) {
			delete(s, "url")
			delete(s, "auth")
			s["connectionRef"] = map[string]any{"name": "CMS"}
		}, "connectionRef.name must be a valid object name"},
		{"a token Secret in another namespace", func(s map[string]any) {
			s["auth"] = map[string]any{"token": map[string]any{"name": "directus", "key": "token", "namespace": "kube-system"}}
		}, "a subscription reads Secrets from its own namespace"},
		{"a credentials Secret in another namespace", func(s map[string]any) {
			s["auth"] = map[string]any{"credentials": map[string]any{"secretName": "directus", "namespace": "kube-system"}}
		}, "a subscription reads Secrets from its own namespace"},
		{"a CA bundle in another namespace", func(s map[string]any) {
			s["tls"] = map[string]any{"ca": map[string]any{"configMapKeyRef": map[string]any{"name": "ca", "key": "ca.crt", "namespace": "kube-system"}}}
		}, "a subscription reads its CA bundle from its own namespace"},
		{"annotations over Kubernetes' 256 KiB", func(s map[string]any) {
			s["target"] = map[string]any{"configMap": map[string]any{"annotations": map[string]any{
				"a": strings.Repeat("x", 140*1024), "b": strings.Repeat("y", 140*1024)}}}
		}, "spec.target.configMap.annotations: Invalid value: annotations: keys and values together must not exceed 256 KiB"},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			spec := validSpec()
			tc.mutate(spec)
			err := k8sClient.Create(context.Background(), subscription("bad-"+strings.Repeat("x", i%3)+string(rune('a'+i%26)), spec), client.DryRunAll)
			g.Expect(err).To(HaveOccurred(), "the API server accepted a wrong spec")
			g.Expect(err.Error()).To(ContainSubstring(tc.want))
			g.Expect(err.Error()).NotTo(ContainSubstring("hunter2"), "the API server echoed a password from the url")
			g.Expect(err.Error()).NotTo(ContainSubstring("access_token=x"), "the API server echoed a token from the url")
			t.Logf("refused: %v", err)
		})
	}
}

func TestAPIServerAcceptsAValidSpecAndFillsDefaults(t *testing.T) {
	g := NewWithT(t)
	u := subscription("defaults", validSpec())
	g.Expect(k8sClient.Create(context.Background(), u, client.DryRunAll)).To(Succeed())
	spec := u.Object["spec"].(map[string]any)
	// websocketPath is defaulted by the operator, not the API server: a
	// subscription naming a connection must be able to leave it unset.
	g.Expect(spec).NotTo(HaveKey("websocketPath"))
	g.Expect(spec["resyncInterval"]).To(Equal("10m"))
	g.Expect(spec["auth"].(map[string]any)["mode"]).To(Equal("handshake"))
	g.Expect(spec["target"].(map[string]any)["configMap"].(map[string]any)["layout"]).To(Equal("PerItem"))
}

func TestAPIServerAcceptsWhatKubernetesAccepts(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(spec map[string]any)
	}{
		{"an @ in the url path, not in the host part", func(s map[string]any) { s["url"] = "https://d.example.com/@directus" }},
		{"a prefixed label key, an empty value and a 63-character value", func(s map[string]any) {
			s["target"] = map[string]any{"configMap": map[string]any{"labels": map[string]any{
				"app.kubernetes.io/part-of": "shop", "empty": "", "long": strings.Repeat("v", 63)}}}
		}},
		{"annotation keys with uppercase (as Kubernetes allows) and a long value", func(s map[string]any) {
			s["target"] = map[string]any{"configMap": map[string]any{"annotations": map[string]any{
				"Example.com/Owner": "team a/b, see https://x", "note": strings.Repeat("n", 100*1024)}}}
		}},
		{"a DNS server name", func(s map[string]any) { s["tls"] = map[string]any{"serverName": "Directus.internal.example.com"} }},
		{"an IPv4 server name", func(s map[string]any) { s["tls"] = map[string]any{"serverName": "10.0.0.7"} }},
		{"an IPv6 server name", func(s map[string]any) { s["tls"] = map[string]any{"serverName": "fd00::7"} }},
		{"a connectionRef instead of url and auth", func(s map[string]any) {
			delete(s, "url")
			delete(s, "auth")
			s["connectionRef"] = map[string]any{"kind": "ClusterDirectusConnection", "name": "shared.cms"}
		}},
		{"dotted Secret and ConfigMap names", func(s map[string]any) {
			s["auth"] = map[string]any{"credentials": map[string]any{"secretName": "directus.login"}}
			s["tls"] = map[string]any{"ca": map[string]any{"configMapKeyRef": map[string]any{"name": "kube-root-ca.crt", "key": "ca.crt"}}}
		}},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			spec := validSpec()
			tc.mutate(spec)
			g.Expect(k8sClient.Create(context.Background(), subscription("good-"+string(rune('a'+i)), spec), client.DryRunAll)).To(Succeed())
		})
	}
}

func TestQueryKeysBeyondTheTypedOnesArePassedThrough(t *testing.T) {
	g := NewWithT(t)
	spec := validSpec()
	spec["query"] = map[string]any{"fields": []any{"id"}, "backlink": false, "version": "draft"}
	u := subscription("passthrough", spec)
	g.Expect(k8sClient.Create(context.Background(), u, client.DryRunAll)).To(Succeed())
	q := u.Object["spec"].(map[string]any)["query"].(map[string]any)
	g.Expect(q).To(HaveKeyWithValue("backlink", false))
	g.Expect(q).To(HaveKeyWithValue("version", "draft"))
}

func TestSamplesAreAccepted(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(envtestutil.RepoRoot(), "config", "samples", "realtime_*.yaml"))
	if err != nil || len(files) < 4 {
		t.Fatalf("want at least 4 samples in config/samples, got %d (%v)", len(files), err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			g := NewWithT(t)
			raw, err := os.ReadFile(f)
			g.Expect(err).NotTo(HaveOccurred())
			u := &unstructured.Unstructured{}
			g.Expect(yaml.Unmarshal(raw, &u.Object)).To(Succeed())
			if u.GetKind() != "ClusterDirectusConnection" {
				u.SetNamespace("default")
			}
			g.Expect(k8sClient.Create(context.Background(), u, client.DryRunAll)).To(Succeed())
		})
	}
}

func connection(kind, name string, spec map[string]any) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "realtime.directus-operator.io/v1alpha1",
		"kind":       kind,
		"metadata":   map[string]any{"name": name},
		"spec":       spec,
	}}
	if kind == "DirectusConnection" {
		u.SetNamespace("default")
	}
	return u
}

func TestConnectionsAreCheckedAtApplyToo(t *testing.T) {
	token := func(ns string) map[string]any {
		ref := map[string]any{"name": "directus", "key": "token"}
		if ns != "" {
			ref["namespace"] = ns
		}
		return map[string]any{"token": ref}
	}
	cases := []struct {
		name, kind string
		spec       map[string]any
		want       string // "" when the spec is valid
	}{
		{"a namespaced connection", "DirectusConnection",
			map[string]any{"url": "https://d.example.com", "auth": token(""), "maxSubscriptionsPerSocket": 50}, ""},
		{"a cluster connection with its Secret's namespace and conditions", "ClusterDirectusConnection",
			map[string]any{"url": "https://d.example.com", "auth": token("platform"), "conditions": []any{
				map[string]any{"namespaces": []any{"shop"}},
				map[string]any{"namespaceSelector": map[string]any{"matchLabels": map[string]any{"directus": "allowed"}}},
				map[string]any{"namespaceRegexes": []any{"^team-"}},
			}}, ""},
		{"a connection without url", "DirectusConnection",
			map[string]any{"auth": token("")}, "a connection needs url and auth"},
		{"a connection without auth", "ClusterDirectusConnection",
			map[string]any{"url": "https://d.example.com"}, "a connection needs url and auth"},
		{"a namespaced connection reading another namespace's Secret", "DirectusConnection",
			map[string]any{"url": "https://d.example.com", "auth": token("kube-system")}, "a DirectusConnection reads Secrets from its own namespace"},
		{"a cluster connection whose Secret has no namespace", "ClusterDirectusConnection",
			map[string]any{"url": "https://d.example.com", "auth": token("")}, "a ClusterDirectusConnection must name the namespace of each Secret"},
		{"a cluster connection whose CA has no namespace", "ClusterDirectusConnection",
			map[string]any{"url": "https://d.example.com", "auth": token("platform"),
				"tls": map[string]any{"ca": map[string]any{"configMapKeyRef": map[string]any{"name": "ca", "key": "ca.crt"}}}},
			"a ClusterDirectusConnection must name the namespace of its CA bundle"},
		{"an empty condition", "ClusterDirectusConnection",
			map[string]any{"url": "https://d.example.com", "auth": token("platform"), "conditions": []any{map[string]any{}}},
			"a condition needs namespaceSelector, namespaces or namespaceRegexes"},
		{"a socket cap of zero", "DirectusConnection",
			map[string]any{"url": "https://d.example.com", "auth": token(""), "maxSubscriptionsPerSocket": 0},
			"spec.maxSubscriptionsPerSocket"},
		{"a url carrying a password", "ClusterDirectusConnection",
			map[string]any{"url": "https://admin:hunter2@d.example.com", "auth": token("platform")},
			"url must not contain a user or password"},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			err := k8sClient.Create(context.Background(), connection(tc.kind, "conn-"+string(rune('a'+i)), tc.spec), client.DryRunAll)
			if tc.want == "" {
				g.Expect(err).NotTo(HaveOccurred())
				return
			}
			g.Expect(err).To(HaveOccurred(), "the API server accepted a wrong connection")
			g.Expect(err.Error()).To(ContainSubstring(tc.want))
			g.Expect(err.Error()).NotTo(ContainSubstring("hunter2"))
		})
	}
}
