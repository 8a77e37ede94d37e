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
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/directus-operator/directus-operator/api/v1alpha1"
	"github.com/directus-operator/directus-operator/controllers/mirror"
	"github.com/directus-operator/directus-operator/controllers/subscriptions"
	"github.com/directus-operator/directus-operator/realtime"
)

// StalledError is a problem only a change of spec, Secret or ConfigMap can
// fix; it becomes conditions and a Warning event, not a retry loop.
type StalledError struct {
	Reason, Message string
}

func (e *StalledError) Error() string { return e.Message }

// Credentials reads Secrets and CA ConfigMaps directly from the API
// server, so the operator does not cache every Secret of the cluster.
type Credentials struct {
	Reader client.Reader
	// Values, when set, keeps Secret data by resourceVersion.
	Values *SecretValues
}

// secretValue is the one way the operator reads a credential. Its errors
// name the Secret and the key, never the value.
func (cr Credentials) secretValue(ctx context.Context, ns, name, key string) (string, error) {
	data, err := cr.secretData(ctx, types.NamespacedName{Namespace: ns, Name: name})
	if err != nil {
		if apierrors.IsNotFound(err) {
			return "", &StalledError{v1alpha1.ReasonSecretNotFound, fmt.Sprintf("Secret %s/%s not found", ns, name)}
		}
		return "", fmt.Errorf("read Secret %s/%s: %w", ns, name, err)
	}
	v, ok := data[key]
	if !ok || len(v) == 0 {
		return "", &StalledError{v1alpha1.ReasonSecretKeyNotFound, fmt.Sprintf("Secret %s/%s has no key %q (or it is empty)", ns, name, key)}
	}
	return string(v), nil
}

func (cr Credentials) secretData(ctx context.Context, key types.NamespacedName) (map[string][]byte, error) {
	if cr.Values != nil {
		return cr.Values.get(ctx, cr.Reader, key)
	}
	s := &corev1.Secret{}
	if err := cr.Reader.Get(ctx, key, s); err != nil {
		return nil, err
	}
	return s.Data, nil
}

func (cr Credentials) caBundle(ctx context.Context, src Source, ca *v1alpha1.CABundleSource) ([]byte, error) {
	if ca.SecretKeyRef != nil {
		v, err := cr.secretValue(ctx, src.in(ca.SecretKeyRef.Namespace), ca.SecretKeyRef.Name, ca.SecretKeyRef.Key)
		return []byte(v), err
	}
	ref := ca.ConfigMapKeyRef
	ns := src.in(ref.Namespace)
	cm := &corev1.ConfigMap{}
	if err := cr.Reader.Get(ctx, types.NamespacedName{Namespace: ns, Name: ref.Name}, cm); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, &StalledError{v1alpha1.ReasonCANotFound, fmt.Sprintf("ConfigMap %s/%s (tls.ca) not found", ns, ref.Name)}
		}
		return nil, fmt.Errorf("read ConfigMap %s/%s: %w", ns, ref.Name, err)
	}
	v, ok := cm.Data[ref.Key]
	if !ok || v == "" {
		return nil, &StalledError{v1alpha1.ReasonCANotFound, fmt.Sprintf("ConfigMap %s/%s has no key %q (tls.ca)", ns, ref.Name, ref.Key)}
	}
	return []byte(v), nil
}

// buildConfig turns an inline spec and the credentials it names into the
// runner's Config.
func buildConfig(ctx context.Context, cr Credentials, obj *v1alpha1.DirectusSubscription) (subscriptions.Config, string, error) {
	return buildConfigFrom(ctx, cr, obj, InlineSource(obj))
}

// BuildRealtime turns a connection's settings and the credentials they
// name into the realtime client's options. caPEM is the CA bundle read, if
// any; warning says what is insecure about the settings.
func BuildRealtime(ctx context.Context, cr Credentials, src Source) (opts realtime.Options, caPEM []byte, warning string, err error) {
	conn := src.Spec
	opts = realtime.Options{Server: realtime.Server{URL: conn.URL}, Path: defaultString(conn.WebSocketPath, "/websocket")}
	switch {
	case conn.Auth.Token != nil:
		tok, err := cr.secretValue(ctx, src.in(conn.Auth.Token.Namespace), conn.Auth.Token.Name, conn.Auth.Token.Key)
		if err != nil {
			return realtime.Options{}, nil, "", err
		}
		opts.Auth.AccessToken = tok
	case conn.Auth.Credentials != nil:
		c := conn.Auth.Credentials
		email, err := cr.secretValue(ctx, src.in(c.Namespace), c.SecretName, defaultString(c.EmailKey, "email"))
		if err != nil {
			return realtime.Options{}, nil, "", err
		}
		password, err := cr.secretValue(ctx, src.in(c.Namespace), c.SecretName, defaultString(c.PasswordKey, "password"))
		if err != nil {
			return realtime.Options{}, nil, "", err
		}
		opts.Auth.Email, opts.Auth.Password = email, password
	}
	switch {
	case conn.Auth.Public != nil:
		opts.AuthMode = realtime.AuthPublic
	case conn.Auth.Mode == v1alpha1.AuthModeStrict:
		opts.AuthMode = realtime.AuthStrict
	default:
		opts.AuthMode = realtime.AuthHandshake
	}

	if t := conn.TLS; t != nil {
		tc := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: t.ServerName}
		if t.CA != nil {
			pem, err := cr.caBundle(ctx, src, t.CA)
			if err != nil {
				return realtime.Options{}, nil, "", err
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return realtime.Options{}, nil, "", &StalledError{v1alpha1.ReasonInvalidSpec, "tls.ca holds no PEM certificate"}
			}
			tc.RootCAs = pool
			caPEM = pem
		}
		if t.InsecureSkipVerify {
			tc.InsecureSkipVerify = true //nolint:gosec // explicit, loudly reported opt-in
			warning = "tls.insecureSkipVerify is set: the server certificate is not verified and credentials can be intercepted"
		}
		opts.TLSConfig = tc
	}
	if w := plainHTTPWarning(conn.URL, conn.Auth.Public != nil); w != "" {
		warning = strings.Join(slices.DeleteFunc([]string{warning, w}, func(s string) bool { return s == "" }), "; ")
	}
	if hb := conn.Heartbeat; hb != nil {
		opts.PingInterval = durationOr(hb.Interval, 0)
		opts.PongTimeout = durationOr(hb.Timeout, 0)
	}
	opts.Reconnect.InitialDelay = 500 * time.Millisecond
	opts.Reconnect.MaxDelay = time.Minute
	if rc := conn.Reconnect; rc != nil {
		opts.Reconnect.InitialDelay = durationOr(rc.InitialDelay, opts.Reconnect.InitialDelay)
		opts.Reconnect.MaxDelay = durationOr(rc.MaxDelay, opts.Reconnect.MaxDelay)
	}

	return opts, caPEM, warning, nil
}

// buildConfigFrom turns a spec, the connection settings src holds and the
// credentials they name into the runner's Config. The hash covers the
// credentials, so a rotated token restarts the connection; it is a digest,
// the values never leave this function.
func buildConfigFrom(ctx context.Context, cr Credentials, obj *v1alpha1.DirectusSubscription, src Source) (subscriptions.Config, string, error) {
	spec := &obj.Spec
	opts, caPEM, warning, err := BuildRealtime(ctx, cr, src)
	if err != nil {
		return subscriptions.Config{}, "", err
	}
	h := sha256.New()
	specJSON, _ := json.Marshal(spec)
	h.Write(specJSON)
	if src.Ref != "" {
		connJSON, _ := json.Marshal(src.Spec)
		_, _ = fmt.Fprintf(h, "\x00%s\x00%s\x00%d\x00%d", connJSON, src.Identity, src.MaxPerSocket, src.MaxConcurrentReads)
	}
	// A static token behind a connection object is rotated in place (the
	// socket re-authenticates, see Hub.Ensure): it is part of neither the
	// hash nor the connection key, so a new token restarts nothing. Other
	// credentials are, and a change reconnects.
	rotatable := src.Ref != "" && opts.Auth.AccessToken != ""
	if !rotatable {
		_, _ = fmt.Fprintf(h, "\x00%s\x00%s\x00%s", opts.Auth.AccessToken, opts.Auth.Email, opts.Auth.Password) // a hash.Hash never fails a write
	}
	h.Write(caPEM)

	cfg := subscriptions.Config{
		Name:       types.NamespacedName{Namespace: obj.Namespace, Name: obj.Name},
		UID:        obj.UID,
		Generation: obj.Generation,
		Realtime:   opts,
		Collection: spec.Collection,
		Event:      string(spec.Event),
	}
	if spec.Query != nil {
		q, err := json.Marshal(spec.Query)
		if err != nil {
			return subscriptions.Config{}, "", &StalledError{v1alpha1.ReasonInvalidSpec, fmt.Sprintf("query: %v", err)}
		}
		cfg.Query = q
	}
	cfg.ResyncInterval = durationOr(spec.ResyncInterval, 10*time.Minute)
	switch {
	case spec.Target.ConfigMap != nil:
		if cfg.ConfigMap, err = mirrorTarget(obj, spec.Target.ConfigMap); err != nil {
			return subscriptions.Config{}, "", err
		}
	case spec.Target.Secret != nil:
		if cfg.Secret, err = mirrorTarget(obj, spec.Target.Secret); err != nil {
			return subscriptions.Config{}, "", err
		}
	default:
		cfg.Events = &subscriptions.EventsTarget{MaxPerMinute: int(defaultInt32(spec.Target.Events.MaxPerMinute, 60))}
	}
	cfg.Hash = hex.EncodeToString(h.Sum(nil))[:32]
	keyOpts := opts
	if rotatable {
		keyOpts.Auth.AccessToken = ""
	}
	cfg.ConnectionKey = connectionKey(src.Spec, keyOpts, caPEM)
	if src.Ref != "" {
		// Subscriptions of one connection object share its sockets (and
		// its caps); another object with the same settings gets its own.
		cfg.ConnectionKey = src.Identity + "#" + cfg.ConnectionKey
	}
	cfg.ConnectionRef, cfg.ConnectionObject = src.Ref, src.Object
	cfg.MaxPerSocket, cfg.MaxConcurrentReads = src.MaxPerSocket, src.MaxConcurrentReads
	return cfg, warning, nil
}

// plainHTTPWarning warns of an http:// url whose host is not inside the
// cluster: what crosses the network there (the token or password, and the
// data) can be read and changed on the way. Cluster-local hosts are Service
// names (ending in .svc or .svc.cluster.local), single-label names (a Service
// in the same namespace), localhost and loopback addresses; traffic to them
// stays on the cluster network, which is the cluster operator's to protect.
func plainHTTPWarning(rawURL string, public bool) string {
	u, err := url.Parse(rawURL)
	if err != nil || u.Scheme != "http" || clusterLocalHost(u.Hostname()) {
		return ""
	}
	what := "the credentials and the data"
	if public {
		what = "the data"
	}
	return fmt.Sprintf("url is plain http:// to %s, outside the cluster: %s cross the network unencrypted "+
		"and can be read or changed on the way; use https://", u.Hostname(), what)
}

// clusterLocalHost reports whether host names something inside the cluster
// (see plainHTTPWarning).
func clusterLocalHost(host string) bool {
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if ip := net.ParseIP(host); ip != nil {
		return ip.IsLoopback()
	}
	return host == "localhost" || !strings.Contains(host, ".") ||
		strings.HasSuffix(host, ".svc") || strings.HasSuffix(host, ".svc.cluster.local")
}

// labelMap converts the target's labels (typed in the API so the CRD can
// bound their values) to the plain map a ConfigMap holds.
func labelMap(m map[string]v1alpha1.LabelValue) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = string(v)
	}
	return out
}

// connectionKey is a digest of what makes a socket: subscriptions with the
// same key are the same Directus identity with the same settings, and share
// connections. It covers the resolved credentials, never shows them.
func connectionKey(spec *v1alpha1.DirectusConnectionSpec, opts realtime.Options, caPEM []byte) string {
	h := sha256.New()
	conn, _ := json.Marshal(struct {
		URL, Path, Mode    string
		TLS                *v1alpha1.TLSSpec
		Heartbeat          *v1alpha1.HeartbeatSpec
		Reconnect          *v1alpha1.ReconnectSpec
		Token, Email, Pass string
	}{spec.URL, opts.Path, string(opts.AuthMode), spec.TLS, spec.Heartbeat, spec.Reconnect,
		opts.Auth.AccessToken, opts.Auth.Email, opts.Auth.Password})
	h.Write(conn)
	h.Write(caPEM)
	return hex.EncodeToString(h.Sum(nil))[:32]
}

// mirrorTarget configures the mirror into the ConfigMap or Secret t; its
// name defaults to the subscription's. A template is parsed here, once per
// spec: a mistake in it is the spec's, and stops the subscription until
// it is fixed.
func mirrorTarget(obj *v1alpha1.DirectusSubscription, t *v1alpha1.ConfigMapTarget) (*subscriptions.MirrorTarget, error) {
	target := &subscriptions.MirrorTarget{
		Name: defaultString(t.Name, obj.Name), KeyField: t.KeyField,
		Layout:  mirror.Layout(defaultString(string(t.Layout), string(v1alpha1.LayoutPerItem))),
		ListKey: defaultString(t.ListKey, "items.json"), Labels: labelMap(t.Labels), Annotations: t.Annotations,
	}
	if t.Template != nil {
		tmpl, err := mirror.ParseTemplate(t.Template.Key, t.Template.Text)
		if err != nil {
			return nil, &StalledError{v1alpha1.ReasonInvalidTemplate, err.Error()}
		}
		target.Template = tmpl
	}
	return target, nil
}

func defaultString(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

func defaultInt32(v, d int32) int32 {
	if v == 0 {
		return d
	}
	return v
}

func durationOr(d *metav1.Duration, def time.Duration) time.Duration {
	if d == nil {
		return def
	}
	return d.Duration
}
