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
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation"
	coordinationv1client "k8s.io/client-go/kubernetes/typed/coordination/v1"
	"k8s.io/client-go/rest"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/directus-operator/directus-operator/api/v1alpha1"
	"github.com/directus-operator/directus-operator/controllers/mirror"
	"github.com/directus-operator/directus-operator/controllers/subscriptions"
	"github.com/directus-operator/directus-operator/realtime"
)

// Downward API variables the ConfigMap target needs: the ConfigMap is
// written in the pod's namespace and owned by the pod.
const (
	envPodNamespace = "POD_NAMESPACE"
	envPodName      = "POD_NAME"
	envPodUID       = "POD_UID"
)

func newSidecarCommand(c *cli) *cobra.Command {
	var (
		cf connFlags
		sf sidecarFlags
	)
	cmd := &cobra.Command{
		Use:   "sidecar --url URL --collection NAME (--target-dir DIR | --target-configmap NAME) [flags]",
		Short: "Run one subscription from flags and environment, into a directory or a ConfigMap",
		Long: "Mirrors one subscription into a directory or a ConfigMap, from inside the application's pod.\n" +
			"Credentials: " + credentialsHelp + ".\nEvery flag can be given as its DIRECTUS_<NAME> environment variable.",
		GroupID: groupRun,
		Args:    noArgs,
		RunE:    func(cmd *cobra.Command, _ []string) error { return sidecar(cmd.Context(), c, &cf, &sf) },
	}
	fs := cmd.Flags()
	cf.bind(fs, true)
	cf.bindLongLived(fs)
	sf.bind(fs)
	environmentFlags(cmd, c)
	return cmd
}

// runSidecar is the sidecar with its environment, output, lifetime and
// hooks passed in.
func runSidecar(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer, hooks sidecarHooks) int {
	return execute(ctx, "directus-operator", append([]string{"sidecar"}, args...), &cli{getenv: getenv, stdout: io.Discard, stderr: stderr, sidecar: hooks})
}

// sidecarHooks let tests learn the probe address and replace the
// Kubernetes client.
type sidecarHooks struct {
	// listening is called with the probe server's address once it listens.
	listening func(net.Addr)
	// kubeConfig returns the config of the ConfigMap target's clients.
	// Defaults to the in-cluster config or the kubeconfig.
	kubeConfig func() (*rest.Config, error)
	// lease replaces the ConfigMap lease's timings.
	lease *leaseTimings
}

// sidecarFlags are the sidecar's own flags, named like the spec's target.
type sidecarFlags struct {
	TargetDir        string
	TargetConfigMap  string
	KeyField         string
	Layout           string
	ListKey          string
	TemplateFile     string
	TemplateKey      string
	ResyncInterval   time.Duration
	ProbeAddr        string
	MinWriteInterval time.Duration
	LogLevel         string
	LogFormat        string
	// TokenFileInterval is how often --token-file is read again.
	TokenFileInterval time.Duration
}

func (sf *sidecarFlags) bind(fs *pflag.FlagSet) {
	fs.StringVar(&sf.TargetDir, "target-dir", "", "write the mirror as files into this directory (e.g. an emptyDir shared with the app)")
	fs.StringVar(&sf.TargetConfigMap, "target-configmap", "", "write the mirror into this ConfigMap of $POD_NAMESPACE, owned by the pod")
	fs.StringVar(&sf.KeyField, "key-field", "", "field that names items; defaults to the collection's primary key")
	fs.StringVar(&sf.Layout, "layout", string(mirror.PerItem), "PerItem (one file or key per item, <key>.json) or List (one JSON array)")
	fs.StringVar(&sf.ListKey, "list-key", "items.json", "file or key of the List layout")
	fs.StringVar(&sf.TemplateFile, "template-file", "",
		"render the whole mirror through this Go text/template file (docs/templates.md) into one file or key, in place of --layout")
	fs.StringVar(&sf.TemplateKey, "template-key", "",
		"file or key of the rendered template; defaults to --template-file's base name without a .tmpl suffix")
	fs.DurationVar(&sf.ResyncInterval, "resync-interval", 10*time.Minute, "period of full re-reads: 0s turns them off, else at least 30s (as spec.resyncInterval)")
	fs.StringVar(&sf.ProbeAddr, "health-probe-bind-address", ":8081", "address of /healthz, /readyz and /healthz/directus")
	fs.DurationVar(&sf.MinWriteInterval, "mirror-min-write-interval", 0,
		"least time between two writes; 0 (the default) writes as soon as the previous write is done, merging the changes that arrived during it")
	fs.StringVar(&sf.LogLevel, "log-level", "info", "log level: debug, info, error, or a number (higher is more verbose)")
	fs.StringVar(&sf.LogFormat, "log-format", "json", "log format: json or text")
	fs.DurationVar(&sf.TokenFileInterval, "token-file-check-interval", 10*time.Second,
		"how often --token-file is read again: a changed token (a rotated Secret) re-authenticates the live connection")
}

// sidecarTemplate reads and parses --template-file; nil without one.
func sidecarTemplate(sf *sidecarFlags) (*mirror.Template, error) {
	if sf.TemplateFile == "" {
		return nil, nil
	}
	key := cmp.Or(sf.TemplateKey, strings.TrimSuffix(filepath.Base(sf.TemplateFile), ".tmpl"))
	if strings.ContainsAny(key, `/\`) || strings.HasPrefix(key, ".") || !dataKey.MatchString(key) {
		return nil, usagef("--template-key %q: want a plain file name such as app.yaml (no leading dot)", key)
	}
	text, err := os.ReadFile(sf.TemplateFile)
	if err != nil {
		return nil, usagef("--template-file: %v", err)
	}
	tmpl, err := mirror.ParseTemplate(key, string(text))
	if err != nil {
		return nil, usagef("--template-file %s: %v", sf.TemplateFile, err)
	}
	return tmpl, nil
}

// dataKey is what a ConfigMap key may be.
var dataKey = regexp.MustCompile(`^[-._a-zA-Z0-9]{1,253}$`)

// podRef is the pod the ConfigMap target belongs to.
type podRef struct{ Namespace, Name, UID string }

// sidecarSetup is the sidecar's one subscription: its socket, what it
// subscribes to, and how it mirrors (without its Store).
type sidecarSetup struct {
	Realtime   realtime.Options
	Collection string
	Event      string
	Query      json.RawMessage
	Mirror     subscriptions.MirrorOptions
}

// sidecarConfig turns the flags and the environment into the sidecar's
// setup and, for the ConfigMap target, the pod.
func sidecarConfig(cf *connFlags, sf *sidecarFlags, getenv func(string) string, stderr io.Writer) (sidecarSetup, *podRef, error) {
	switch {
	case sf.TargetDir == "" && sf.TargetConfigMap == "":
		return sidecarSetup{}, nil, usagef("set --target-dir or --target-configmap (or DIRECTUS_TARGET_DIR / DIRECTUS_TARGET_CONFIGMAP)")
	case sf.TargetDir != "" && sf.TargetConfigMap != "":
		return sidecarSetup{}, nil, usagef("--target-dir and --target-configmap are exclusive")
	}
	layout := mirror.Layout(sf.Layout)
	if layout != mirror.PerItem && layout != mirror.List {
		return sidecarSetup{}, nil, usagef("--layout %q: want PerItem or List", sf.Layout)
	}
	if layout == mirror.List && (sf.ListKey == "" || strings.ContainsAny(sf.ListKey, `/\`) || strings.HasPrefix(sf.ListKey, ".")) {
		return sidecarSetup{}, nil, usagef("--list-key %q: want a plain file name such as items.json", sf.ListKey)
	}
	tmpl, err := sidecarTemplate(sf)
	if err != nil {
		return sidecarSetup{}, nil, err
	}
	if err := v1alpha1.ValidateResyncInterval(sf.ResyncInterval); err != nil {
		return sidecarSetup{}, nil, usagef("--resync-interval: %v", err)
	}
	if sf.MinWriteInterval < 0 {
		return sidecarSetup{}, nil, usagef("--mirror-min-write-interval must not be negative")
	}
	if sf.TokenFileInterval <= 0 {
		return sidecarSetup{}, nil, usagef("--token-file-check-interval must be positive, got %s", sf.TokenFileInterval)
	}
	opts, err := cf.options(getenv, stderr)
	if err != nil {
		return sidecarSetup{}, nil, err
	}
	so := cf.subscribeOptions()
	setup := sidecarSetup{
		Realtime: opts, Collection: so.Collection, Event: so.Event, Query: so.Query,
		Mirror: subscriptions.MirrorOptions{
			KeyField: sf.KeyField, Layout: layout, ListKey: sf.ListKey, Template: tmpl,
			ResyncInterval: sf.ResyncInterval, MinWriteInterval: sf.MinWriteInterval,
		},
	}
	if sf.TargetDir != "" {
		return setup, nil, nil
	}
	if errs := validation.IsDNS1123Subdomain(sf.TargetConfigMap); len(errs) > 0 {
		return sidecarSetup{}, nil, usagef("--target-configmap %q is not a valid ConfigMap name: %s", sf.TargetConfigMap, strings.Join(errs, "; "))
	}
	if errs := validation.IsDNS1123Subdomain(leaseName(sf.TargetConfigMap)); len(errs) > 0 {
		return sidecarSetup{}, nil, usagef("--target-configmap %q is too long for its Lease %q: %s",
			sf.TargetConfigMap, leaseName(sf.TargetConfigMap), strings.Join(errs, "; "))
	}
	pod := &podRef{Namespace: getenv(envPodNamespace), Name: getenv(envPodName), UID: getenv(envPodUID)}
	var missing []string
	for _, v := range []struct{ env, val string }{{envPodNamespace, pod.Namespace}, {envPodName, pod.Name}, {envPodUID, pod.UID}} {
		if v.val == "" {
			missing = append(missing, v.env)
		}
	}
	if len(missing) > 0 {
		return sidecarSetup{}, nil, usagef("--target-configmap needs %s, %s and %s from the downward API "+
			"(fieldRef metadata.namespace, metadata.name, metadata.uid); missing: %s",
			envPodNamespace, envPodName, envPodUID, strings.Join(missing, ", "))
	}
	return setup, pod, nil
}

// configMapStore writes into the ConfigMap, owned by the pod so that it
// goes away with it. It adopts a ConfigMap an earlier leader Pod wrote for
// the same name: only the Lease holder writes, so taking over is safe.
func configMapStore(kc client.Client, name string, pod *podRef) *subscriptions.ObjectStore {
	label := name
	if len(validation.IsValidLabelValue(label)) > 0 {
		label = ""
	}
	return &subscriptions.ObjectStore{
		Client: kc, Reader: kc,
		Key:          types.NamespacedName{Namespace: pod.Namespace, Name: name},
		Owner:        metav1.OwnerReference{APIVersion: "v1", Kind: "Pod", Name: pod.Name, UID: types.UID(pod.UID)},
		Subscription: label,
		Adopt: func(cm client.Object) bool {
			ref := metav1.GetControllerOf(cm)
			labels := cm.GetLabels()
			return ref != nil && ref.APIVersion == "v1" && ref.Kind == "Pod" &&
				labels[v1alpha1.LabelManagedBy] == v1alpha1.ManagedByValue && labels[v1alpha1.LabelSubscription] == label
		},
	}
}

// configMapHeld tells whether the ConfigMap holds a complete snapshot: a
// sidecar wrote it (each write is the whole mirror, in one object).
func configMapHeld(kc client.Reader, key types.NamespacedName) func(ctx context.Context) bool {
	return func(ctx context.Context) bool {
		cm := &corev1.ConfigMap{}
		if err := kc.Get(ctx, key, cm); err != nil {
			return false
		}
		return cm.Labels[v1alpha1.LabelManagedBy] == v1alpha1.ManagedByValue && cm.Annotations[v1alpha1.AnnotationContentHash] != ""
	}
}

// directoryHeld tells whether the directory holds a complete snapshot from
// an earlier run (a restarted container on the same emptyDir): index.json
// is written last.
func directoryHeld(store *subscriptions.DirectoryStore) func(ctx context.Context) bool {
	return func(context.Context) bool {
		_, err := store.ReadIndex()
		return err == nil
	}
}

// kubeClients are the ConfigMap target's clients: uncached (one ConfigMap,
// read rarely) and the Lease client of the election.
func kubeClients(cfg *rest.Config) (client.Client, coordinationv1client.LeasesGetter, error) {
	kc, err := client.New(cfg, client.Options{})
	if err != nil {
		return nil, nil, err
	}
	leases, err := coordinationv1client.NewForConfig(cfg)
	if err != nil {
		return nil, nil, err
	}
	return kc, leases, nil
}

var globalLoggers sync.Once

// sidecar mirrors the subscription until ctx ends.
func sidecar(ctx context.Context, c *cli, cf *connFlags, sf *sidecarFlags) error {
	hooks := c.sidecar
	log, err := newLogger(sf.LogLevel, sf.LogFormat)
	if err != nil {
		return usagef("%v", err)
	}
	setup, pod, err := sidecarConfig(cf, sf, c.getenv, c.stderr)
	if err != nil {
		return err
	}
	// Bad options fail here, before anything listens, not at the first
	// leadership.
	probe, err := subscriptions.NewConnection(subscriptions.ConnectionOptions{Realtime: setup.Realtime, Log: log})
	if err != nil {
		return usagef("%v", err)
	}
	probe.Close()

	var (
		st       *sidecarState
		newStore func() subscriptions.Store
		run      func(ctx context.Context, term func(context.Context)) error
	)
	if pod == nil {
		store := &subscriptions.DirectoryStore{Dir: sf.TargetDir}
		st = newSidecarState(store.Name(), directoryHeld(store), setup.Realtime.Auth.AccessToken)
		newStore = func() subscriptions.Store { return store }
		run = func(ctx context.Context, term func(context.Context)) error { term(ctx); return nil }
	} else {
		// client-go's and controller-runtime's loggers are process-wide,
		// set once, before any of their goroutines runs.
		globalLoggers.Do(func() {
			ctrl.SetLogger(log)
			klog.SetLogger(log.WithName("client-go"))
		})
		getConfig, timings := hooks.kubeConfig, defaultLeaseTimings
		if getConfig == nil {
			getConfig = ctrl.GetConfig
		}
		if hooks.lease != nil {
			timings = *hooks.lease
		}
		cfg, err := getConfig()
		if err != nil {
			return usagef("kubernetes config: %v", err)
		}
		kc, leases, err := kubeClients(cfg)
		if err != nil {
			return usagef("kubernetes client: %v", err)
		}
		key := types.NamespacedName{Namespace: pod.Namespace, Name: sf.TargetConfigMap}
		st = newSidecarState("ConfigMap/"+sf.TargetConfigMap, configMapHeld(kc, key), setup.Realtime.Auth.AccessToken)
		// A fresh store each term: what an earlier term wrote may have
		// been overwritten by another leader since.
		newStore = func() subscriptions.Store { return configMapStore(kc, sf.TargetConfigMap, pod) }
		run = func(ctx context.Context, term func(context.Context)) error {
			return runElected(ctx, log, leases, pod, sf.TargetConfigMap, timings, st, term)
		}
	}

	ln, err := net.Listen("tcp", sf.ProbeAddr)
	if err != nil {
		return usagef("--health-probe-bind-address: %v", err)
	}
	srv := &http.Server{Handler: probeHandler(st), ReadHeaderTimeout: 5 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	if hooks.listening != nil {
		hooks.listening(ln.Addr())
	}
	log.Info("Starting sidecar", "version", version, "commit", commit, "collection", setup.Collection, "event", setup.Event,
		"target", st.target, "url", cf.URL, "probeAddress", ln.Addr().String())

	var wg sync.WaitGroup
	wg.Go(func() { logStates(ctx, log, st) })
	if cf.TokenFile != "" {
		wg.Go(func() {
			watchTokenFile(ctx, log, cf.TokenFile, sf.TokenFileInterval, setup.Realtime.Auth.AccessToken, st.setToken)
		})
	}
	failed := run(ctx, func(ctx context.Context) { mirrorTerm(ctx, log, setup, newStore(), st) })
	if failed != nil {
		log.Error(failed, "Sidecar failed")
	}
	wg.Wait()

	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(shutdownCtx)
	if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Error(err, "Probe server failed")
	}
	log.Info("Sidecar stopped")
	return failed
}

// mirrorTerm runs the subscription into store until ctx ends: the whole
// life of a directory sidecar, one leadership of a ConfigMap one.
func mirrorTerm(ctx context.Context, log logr.Logger, setup sidecarSetup, store subscriptions.Store, st *sidecarState) {
	conn, err := st.connect(setup.Realtime, log)
	if err != nil {
		log.Error(err, "Could not make the Directus connection") // checked at startup
		return
	}
	opts := setup.Mirror
	opts.Store = store
	runner := subscriptions.NewRunner(subscriptions.RunnerOptions{
		Collection: setup.Collection, Event: setup.Event, Query: setup.Query, UID: "sidecar", Log: log, Notify: st.notify,
	}, conn, subscriptions.NewMirrorSink(opts))
	st.setRunner(runner)
	conn.Start(ctx)
	runner.Run(ctx) // returns once ctx ends, after unsubscribing
	conn.Close()
	st.setRunner(nil)
}
