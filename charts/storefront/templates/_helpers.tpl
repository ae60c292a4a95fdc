{{/*
Named templates shared by every component. Templates that concern one component
take a dict: (dict "root" $ "name" "<component>").
*/}}

{{- define "storefront.fullname" -}}
{{- default .Release.Name .Values.fullnameOverride | trunc 30 | trimSuffix "-" -}}
{{- end -}}

{{- define "storefront.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
The components' names in their order (components.<name>.order). Fails on a repeated order and on a
call to a component that does not exist, so a typo in the topology cannot render a quiet half-policy.
*/}}
{{- define "storefront.componentNames" -}}
{{- $byOrder := dict -}}
{{- range $name, $component := .Values.components -}}
{{- $key := printf "%06d" (int $component.order) -}}
{{- if hasKey $byOrder $key -}}
{{- fail (printf "components.%s.order %d is also components.%s.order" $name (int $component.order) (get $byOrder $key)) -}}
{{- end -}}
{{- $_ := set $byOrder $key $name -}}
{{- range $callee := $component.calls -}}
{{- if not (hasKey $.Values.components $callee) -}}
{{- fail (printf "components.%s.calls names %q, which is not a component" $name $callee) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- $names := list -}}
{{- range $key := keys $byOrder | sortAlpha -}}
{{- $names = append $names (get $byOrder $key) -}}
{{- end -}}
{{- join " " $names -}}
{{- end -}}

{{/*
One component's values: `default` with components.<name> over it, as JSON (fromJson it). Maps merge
key by key; anything else in the component replaces the default, false and empty values too
(sprig's merge functions would keep a default true over a component's false).
*/}}
{{- define "storefront.component" -}}
{{- include "storefront.mergeValues" (dict "base" .root.Values.default "over" (index .root.Values.components .name)) -}}
{{- end -}}

{{- define "storefront.mergeValues" -}}
{{- $merged := deepCopy .base -}}
{{- range $key, $value := .over -}}
{{- $base := get $merged $key -}}
{{- if and (kindIs "map" $value) (kindIs "map" $base) -}}
{{- $_ := set $merged $key (include "storefront.mergeValues" (dict "base" $base "over" $value) | fromJson) -}}
{{- else -}}
{{- $_ := set $merged $key $value -}}
{{- end -}}
{{- end -}}
{{- toJson $merged -}}
{{- end -}}

{{- define "storefront.componentName" -}}
{{- printf "%s-%s" (include "storefront.fullname" .root) .name -}}
{{- end -}}

{{- define "storefront.commonLabels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: storefront
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end -}}

{{/* Selects every pod of one service: server, migrations and periodic jobs alike (network policies use it). */}}
{{- define "storefront.serviceSelector" -}}
app.kubernetes.io/name: {{ include "storefront.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .name }}
{{- end -}}

{{/* Selects one kind of workload of one service; .workload is server, migrate or cron. */}}
{{- define "storefront.selectorLabels" -}}
{{ include "storefront.serviceSelector" . }}
storefront.dev/workload: {{ .workload | default "server" }}
{{- end -}}

{{- define "storefront.labels" -}}
{{ include "storefront.commonLabels" .root }}
{{ include "storefront.selectorLabels" . }}
{{- end -}}

{{/* Selects every pod of this release. */}}
{{- define "storefront.releaseSelector" -}}
app.kubernetes.io/name: {{ include "storefront.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "storefront.image" -}}
{{- $component := include "storefront.component" . | fromJson -}}
{{- if $component.image -}}
{{- $component.image -}}
{{- else -}}
{{- printf "%s/%s:%s" (.root.Values.image.registry | trimSuffix "/") .name (.root.Values.image.tag | default .root.Chart.AppVersion) -}}
{{- end -}}
{{- end -}}

{{- define "storefront.serviceAccountName" -}}
{{- $sa := (include "storefront.component" . | fromJson).serviceAccount -}}
{{- if $sa.create -}}
{{- default (include "storefront.componentName" .) $sa.name -}}
{{- else -}}
{{- default "default" $sa.name -}}
{{- end -}}
{{- end -}}

{{- define "storefront.serviceURL" -}}
{{- printf "http://%s" (include "storefront.componentName" .) -}}
{{- end -}}

{{/* The simulator serves under the same path in the cluster and behind the Ingress. */}}
{{- define "storefront.paystackSimulatorPath" -}}
/_paystack
{{- end -}}

{{- define "storefront.paystackBaseURL" -}}
{{- if .Values.paystackSimulator.enabled -}}
{{- printf "http://%s%s" (include "storefront.componentName" (dict "root" . "name" "paystack-sim")) (include "storefront.paystackSimulatorPath" .) -}}
{{- else -}}
{{- .Values.payments.paystack.baseURL -}}
{{- end -}}
{{- end -}}

{{- define "storefront.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .Values.podSecurity.runAsUser }}
runAsGroup: {{ .Values.podSecurity.runAsGroup }}
fsGroup: {{ .Values.podSecurity.fsGroup }}
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* Passes the restricted Pod Security Standard. */}}
{{- define "storefront.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: {{ .Values.podSecurity.readOnlyRootFilesystem }}
runAsNonRoot: true
capabilities:
  drop: [ALL]
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "storefront.signingKeyDir" -}}
/var/run/secrets/storefront/signing
{{- end -}}

{{- define "storefront.databaseCADir" -}}
/etc/storefront/database-ca
{{- end -}}

{{/* Environment of every container of one service (server, migrations, jobs). */}}
{{- define "storefront.env" -}}
{{- $root := .root -}}
{{- $v := $root.Values -}}
{{- $component := include "storefront.component" . | fromJson -}}
- name: SERVICE_NAME
  value: {{ .name }}
- name: SERVICE_CLIENT_ID
  value: {{ .name }}
- name: ENVIRONMENT
  value: {{ $v.environment | quote }}
- name: LOG_LEVEL
  value: {{ $v.logLevel | quote }}
- name: LOG_FORMAT
  value: {{ $v.logFormat | quote }}
- name: JWT_ISSUER
  value: {{ $v.jwt.issuer | quote }}
- name: JWT_AUDIENCE
  value: {{ $v.jwt.audience | quote }}
- name: STOREFRONT_CURRENCY
  value: {{ $v.payments.currency | quote }}
{{- with $v.database.caCertificate.configMapName }}
- name: PGSSLROOTCERT
  value: {{ printf "%s/%s" (include "storefront.databaseCADir" $root) $v.database.caCertificate.key | quote }}
{{- end }}
{{- $names := splitList " " (include "storefront.componentNames" $root) }}
{{- range $other := $names }}
{{- /* The URL of every component another one calls (web is called by none: no WEB_URL). */}}
{{- $called := false }}
{{- range $caller := $names }}
{{- if has $other (get $v.components $caller).calls }}{{ $called = true }}{{ end }}
{{- end }}
{{- if $called }}
- name: {{ upper $other }}_URL
  value: {{ include "storefront.serviceURL" (dict "root" $root "name" $other) | quote }}
{{- end }}
{{- end }}
{{- if eq .name "users" }}
- name: JWT_PRIVATE_KEY
  value: {{ printf "%s/%s" (include "storefront.signingKeyDir" $root) $v.auth.signingKey.privateKeyKey | quote }}
{{- with $v.auth.signingKey.previousPublicKeysKey }}
- name: JWT_PREVIOUS_PUBLIC_KEYS
  value: {{ printf "%s/%s" (include "storefront.signingKeyDir" $root) . | quote }}
{{- end }}
- name: ACCESS_TOKEN_TTL_SECONDS
  value: {{ include "storefront.durationSeconds" $v.auth.accessTokenTTL | quote }}
- name: REFRESH_TOKEN_TTL_SECONDS
  value: {{ include "storefront.durationSeconds" $v.auth.refreshTokenTTL | quote }}
- name: PUBLIC_URL
  value: {{ include "storefront.publicURL" $root | quote }}
- name: DATA_DIR
  value: /tmp/data
{{- end }}
{{- if eq .name "payments" }}
- name: PLATFORM_FEE_BPS
  value: {{ $v.payments.platformFeeBps | quote }}
- name: PAYSTACK_BASE_URL
  value: {{ include "storefront.paystackBaseURL" $root | quote }}
{{- /* Back to the shop's page after paying when web runs (it verifies and shows the order), else payments' own. */}}
{{- $web := and (hasKey $v.components "web") (include "storefront.component" (dict "root" $root "name" "web") | fromJson).enabled }}
- name: PAYSTACK_CALLBACK_URL
  value: {{ printf "%s%s" (include "storefront.publicURL" $root) (ternary "/payments/callback" "/api/v1/payments/paystack/callback" $web) | quote }}
- name: PAYSTACK_SECRET_KEY
  valueFrom:
    secretKeyRef:
      name: {{ $v.payments.paystack.secretKeyRef.name }}
      key: {{ $v.payments.paystack.secretKeyRef.key }}
{{- end }}
{{- range $key, $value := $component.env }}
- name: {{ $key }}
  value: {{ $value | quote }}
{{- end }}
{{- end -}}

{{- define "storefront.envFrom" -}}
{{- $component := include "storefront.component" . | fromJson -}}
{{- range $name := prepend $component.extraSecretNames $component.secretName }}
- secretRef:
    name: {{ $name }}
{{- end }}
{{- end -}}

{{/* Volumes of one service's pods; .server adds the Prometheus multiprocess directory. */}}
{{- define "storefront.volumes" -}}
- name: tmp
  emptyDir: {}
{{- if .server }}
- name: prometheus
  emptyDir: {}
{{- end }}
{{- if eq .name "users" }}
- name: signing-key
  secret:
    secretName: {{ .root.Values.auth.signingKey.secretName }}
    defaultMode: 0440
{{- end }}
{{- with .root.Values.database.caCertificate }}
{{- if .configMapName }}
- name: database-ca
  configMap:
    name: {{ .configMapName }}
    items:
      - {key: {{ .key | quote }}, path: {{ .key | quote }}}
{{- end }}
{{- end }}
{{- end -}}

{{- define "storefront.volumeMounts" -}}
- name: tmp
  mountPath: /tmp
{{- if .server }}
- name: prometheus
  mountPath: /var/run/prometheus
{{- end }}
{{- if eq .name "users" }}
- name: signing-key
  mountPath: {{ include "storefront.signingKeyDir" .root }}
  readOnly: true
{{- end }}
{{- if .root.Values.database.caCertificate.configMapName }}
- name: database-ca
  mountPath: {{ include "storefront.databaseCADir" .root }}
  readOnly: true
{{- end }}
{{- end -}}

{{/*
The pod spec of one service's workloads. .workload is server, migrate or cron;
.command is the container's command as a list. Migrations use the default
ServiceAccount: as a pre-install hook they run before the chart creates its own.
*/}}
{{- define "storefront.podSpec" -}}
{{- $root := .root -}}
{{- $component := include "storefront.component" . | fromJson -}}
{{- $server := eq .workload "server" -}}
{{- $ctx := dict "root" $root "name" .name "server" $server -}}
{{- if ne .workload "migrate" }}
serviceAccountName: {{ include "storefront.serviceAccountName" . }}
{{- end }}
automountServiceAccountToken: false
{{- with $root.Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
securityContext:
  {{- include "storefront.podSecurityContext" $root | nindent 2 }}
{{- with $component.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $component.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- if not $server }}
restartPolicy: Never
{{- end }}
containers:
  - name: {{ .containerName | default .name }}
    image: {{ include "storefront.image" . | quote }}
    imagePullPolicy: {{ $root.Values.image.pullPolicy }}
    command:
      {{- toYaml .command | nindent 6 }}
    env:
      {{- include "storefront.env" . | nindent 6 }}
      {{- if $server }}
      - name: PROMETHEUS_MULTIPROC_DIR
        value: /var/run/prometheus
      - name: WEB_CONCURRENCY
        value: {{ $root.Values.workload.workers | quote }}
      - name: WEB_THREADS
        value: {{ $component.threads | quote }}
      {{- end }}
    envFrom:
      {{- include "storefront.envFrom" . | trim | nindent 6 }}
    {{- if $server }}
    ports:
      - name: http
        containerPort: 8080
        protocol: TCP
    startupProbe:
      # /healthz: a database outage at start must not turn into a restart loop.
      httpGet: {path: /healthz, port: http}
      periodSeconds: 2
      failureThreshold: 30
    readinessProbe:
      httpGet: {path: /readyz, port: http}
      periodSeconds: 5
      timeoutSeconds: 3
      failureThreshold: 3
    livenessProbe:
      httpGet: {path: /healthz, port: http}
      periodSeconds: 10
      timeoutSeconds: 3
      failureThreshold: 3
    {{- with $root.Values.workload.preStopSleepSeconds }}
    lifecycle:
      # Keep serving while the Ingress controller and kube-proxy drop this pod's endpoint; then
      # SIGTERM lets in-flight requests finish.
      preStop:
        sleep: {seconds: {{ . }}}
    {{- end }}
    {{- end }}
    resources:
      {{- toYaml $component.resources | nindent 6 }}
    securityContext:
      {{- include "storefront.containerSecurityContext" $root | nindent 6 }}
    volumeMounts:
      {{- include "storefront.volumeMounts" $ctx | nindent 6 }}
volumes:
  {{- include "storefront.volumes" $ctx | nindent 2 }}
{{- end -}}

{{/* A flask command of one service as a container command. */}}
{{- define "storefront.flaskCommand" -}}
{{- list "flask" "--app" (printf "storefront_%s.wsgi" .name) .command | toJson -}}
{{- end -}}

{{/* NetworkPolicy peer for this release's pods of one service. */}}
{{- define "storefront.servicePeer" -}}
- podSelector:
    matchLabels:
      {{- include "storefront.serviceSelector" . | nindent 6 }}
{{- end -}}

{{/*
NetworkPolicy peers from a values block with optional namespaceSelector,
podSelector, cidrs and except. Renders nothing when the block selects nothing,
so callers can leave out a rule that would otherwise allow everyone.
*/}}
{{- define "storefront.peers" -}}
{{- $peer := dict -}}
{{- with .namespaceSelector }}{{ $_ := set $peer "namespaceSelector" . }}{{ end -}}
{{- with .podSelector }}{{ $_ := set $peer "podSelector" . }}{{ end -}}
{{- if $peer }}
- {{ toJson $peer }}
{{- end }}
{{- range $cidr := .cidrs }}
- ipBlock: {{ toJson (dict "cidr" $cidr "except" ($.except | default list)) }}
{{- end }}
{{- end -}}

{{- define "storefront.httpPort" -}}
ports:
  - {protocol: TCP, port: 8080}
{{- end -}}

{{- define "storefront.dnsEgress" -}}
- to:
    - namespaceSelector:
        matchLabels:
          kubernetes.io/metadata.name: {{ .Values.networkPolicy.dns.namespace }}
      podSelector:
        {{- toYaml .Values.networkPolicy.dns.podSelector | nindent 8 }}
  ports:
    - {protocol: UDP, port: 53}
    - {protocol: TCP, port: 53}
{{- end -}}

{{- define "storefront.postgresqlSecretName" -}}
{{- .Values.postgresql.auth.secretName | default (include "storefront.componentName" (dict "root" . "name" "postgresql")) -}}
{{- end -}}

{{/* Seconds in a duration made of whole hours, minutes and seconds ("1h30m", "720h"). */}}
{{- define "storefront.durationSeconds" -}}
{{- $total := 0 -}}
{{- range $part := regexFindAll "[0-9]+[hms]" . -1 -}}
{{- $n := regexFind "[0-9]+" $part | atoi -}}
{{- $unit := get (dict "h" 3600 "m" 60 "s" 1) (trimPrefix (toString $n) $part) -}}
{{- $total = add $total (mul $n $unit) -}}
{{- end -}}
{{- $total -}}
{{- end -}}

{{/* The URL clients use: publicURL, else the token issuer (the ingress host). */}}
{{- define "storefront.publicURL" -}}
{{- .Values.publicURL | default .Values.jwt.issuer | trimSuffix "/" -}}
{{- end -}}
