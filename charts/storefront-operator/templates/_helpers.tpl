{{- define "storefront-operator.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "storefront-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "storefront-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "storefront-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "storefront-operator.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: storefront
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{ include "storefront-operator.selectorLabels" . }}
{{- end -}}

{{- define "storefront-operator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "storefront-operator.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* The namespaces the operator watches when not watching all of them. */}}
{{- define "storefront-operator.namespaces" -}}
{{- .Values.watch.namespaces | default (list .Release.Namespace) | uniq | join " " -}}
{{- end -}}

{{/*
What the operator does in a namespace it watches: reconcile Storefronts and
server-side apply what charts/storefront renders (and prune it), read the
Secrets a Storefront references, provision its own Secrets, emit Events.
Nothing here is a wildcard.
*/}}
{{- define "storefront-operator.namespacedRules" -}}
- apiGroups: [storefront.dev]
  resources: [storefronts]
  verbs: [get, list, watch, patch, update]
- apiGroups: [storefront.dev]
  resources: [storefronts/status]
  verbs: [get, patch, update]
- apiGroups: [storefront.dev]
  resources: [storefronts/finalizers]
  verbs: [update]
- apiGroups: [""]
  resources: [secrets, services, serviceaccounts, configmaps, persistentvolumeclaims]
  verbs: [get, list, watch, create, update, patch, delete]
- apiGroups: [apps]
  resources: [deployments, statefulsets]
  verbs: [get, list, watch, create, update, patch, delete]
- apiGroups: [autoscaling]
  resources: [horizontalpodautoscalers]
  verbs: [get, list, watch, create, update, patch, delete]
- apiGroups: [policy]
  resources: [poddisruptionbudgets]
  verbs: [get, list, watch, create, update, patch, delete]
- apiGroups: [networking.k8s.io]
  resources: [ingresses, networkpolicies]
  verbs: [get, list, watch, create, update, patch, delete]
- apiGroups: [batch]
  resources: [jobs, cronjobs]
  verbs: [get, list, watch, create, update, patch, delete]
- apiGroups: ["", events.k8s.io]
  resources: [events]
  verbs: [create, patch]
{{- if .Values.peering.enabled }}
- apiGroups: [kopf.dev]
  resources: [kopfpeerings]
  verbs: [get, list, watch, patch]
{{- end }}
{{- end -}}
