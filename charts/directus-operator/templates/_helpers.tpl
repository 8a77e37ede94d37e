{{/*
The chart name, or nameOverride.
*/}}
{{- define "directus-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The full name: fullnameOverride, or release-chart (just the release name when
it already contains the chart name). Truncated to 63 characters (DNS label).
*/}}
{{- define "directus-operator.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "directus-operator.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Labels on every object.
*/}}
{{- define "directus-operator.labels" -}}
{{ include "directus-operator.shardLabels" (dict "root" . "shard" "") }}
{{- end }}

{{/*
Selector labels: stable across upgrades (a Deployment's selector is immutable).
*/}}
{{- define "directus-operator.selectorLabels" -}}
{{ include "directus-operator.shardSelectorLabels" (dict "root" . "shard" "") }}
{{- end }}

{{/*
Labels that select the pods of every shard of the release (the metrics
Service, the NetworkPolicy).
*/}}
{{- define "directus-operator.releasePodLabels" -}}
app.kubernetes.io/name: {{ include "directus-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
The shard templates take (dict "root" $ "shard" name), name "" being the
default Deployment's, whose labels and selector labels are labels and
selectorLabels, so that turning sharding on keeps its (immutable) selector;
a shard's differ in app.kubernetes.io/component, so that no Deployment
selects another's pods.
*/}}
{{- define "directus-operator.shardSelectorLabels" -}}
app.kubernetes.io/name: {{ include "directus-operator.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: controller-manager{{ with .shard }}-{{ . }}{{ end }}
{{- end }}

{{- define "directus-operator.shardLabels" -}}
helm.sh/chart: {{ include "directus-operator.chart" .root }}
{{ include "directus-operator.shardSelectorLabels" . }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/part-of: directus-operator
{{- with .shard }}
realtime.directus-operator.io/shard: {{ . }}
{{- end }}
{{- end }}

{{- define "directus-operator.shardName" -}}
{{- if .shard }}
{{- printf "%s-%s" (include "directus-operator.fullname" .root) .shard | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- include "directus-operator.fullname" .root }}
{{- end }}
{{- end }}

{{/*
The shard's leader election Lease. The default Deployment keeps the name it
had before sharding, so an upgrade that adds shards hands over cleanly.
*/}}
{{- define "directus-operator.leaseName" -}}
{{- if .shard }}
{{- printf "directus-operator-%s.realtime.directus-operator.io" .shard }}
{{- else -}}
directus-operator.realtime.directus-operator.io
{{- end }}
{{- end }}

{{/*
The shard's --watch-label-selector: key=shard for a shard; for the default
Deployment, when there are shards, every object whose key names none of
them (unlabelled, or labelled with a shard this release does not run).
Nothing without shards: the one Deployment reconciles everything.
*/}}
{{- define "directus-operator.shardSelector" -}}
{{- $key := .root.Values.sharding.key }}
{{- if .shard }}
{{- printf "%s=%s" $key .shard }}
{{- else if .root.Values.sharding.shards }}
{{- printf "%s notin (%s)" $key (join "," .root.Values.sharding.shards) }}
{{- end }}
{{- end }}

{{- define "directus-operator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "directus-operator.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
The image reference: repository@digest when a digest is set, else
repository:tag with the tag defaulting to the chart's appVersion.
*/}}
{{- define "directus-operator.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/*
The operator's rules on the objects it watches and writes. Keep in step with
config/rbac/role.yaml (generated from the +kubebuilder:rbac markers); the
test/deploy suite fails when they differ.
*/}}
{{- define "directus-operator.managerRules" -}}
- apiGroups: [""]
  resources: [configmaps]
  verbs: [create, delete, get, list, patch, update, watch]
- apiGroups: [""]
  resources: [namespaces]
  verbs: [get, list, watch]
- apiGroups: [""]
  resources: [secrets]
  verbs: [create, delete, get, list, patch, update, watch]
- apiGroups: ["", events.k8s.io]
  resources: [events]
  verbs: [create, patch]
- apiGroups: [realtime.directus-operator.io]
  resources: [directussubscriptions]
  verbs: [get, list, patch, update, watch]
- apiGroups: [realtime.directus-operator.io]
  resources: [directussubscriptions/finalizers]
  verbs: [update]
- apiGroups: [realtime.directus-operator.io]
  resources: [clusterdirectusconnections, directusconnections]
  verbs: [get, list, watch]
- apiGroups: [realtime.directus-operator.io]
  resources: [clusterdirectusconnections/status, directusconnections/status, directussubscriptions/status]
  verbs: [get, patch, update]
{{- end }}

{{/*
The manager rules on cluster-scoped objects: namespace labels (for the
conditions of ClusterDirectusConnections) and ClusterDirectusConnections.
A namespaced install grants them with a ClusterRole of their own, since a
Role cannot.
*/}}
{{- define "directus-operator.clusterScopedRules" -}}
- apiGroups: [""]
  resources: [namespaces]
  verbs: [get, list, watch]
- apiGroups: [realtime.directus-operator.io]
  resources: [clusterdirectusconnections]
  verbs: [get, list, watch]
- apiGroups: [realtime.directus-operator.io]
  resources: [clusterdirectusconnections/status]
  verbs: [get, patch, update]
{{- end }}

{{/*
The TLS Secret mounted for the metrics endpoint, or nothing.
*/}}
{{- define "directus-operator.metricsCertSecret" -}}
{{- if and .Values.metrics.enabled .Values.metrics.secure }}{{ .Values.metrics.certSecret }}{{ end }}
{{- end }}

{{/*
The name of the metrics Service's port: https or http-metrics.
*/}}
{{- define "directus-operator.metricsPortName" -}}
{{- if .Values.metrics.secure }}https{{ else }}http-metrics{{ end }}
{{- end }}
