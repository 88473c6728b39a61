{{/* Names, labels and the pieces every pod shares. */}}

{{- define "cb.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "cb.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "cb.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "cb.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{/* Selector labels of one component: (dict "ctx" $ "component" "server"). */}}
{{- define "cb.selector" -}}
app.kubernetes.io/name: {{ include "cb.name" .ctx }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "cb.image.cbutler" -}}
{{- printf "%s:%s" .Values.image.cbutler.repository (default .Chart.AppVersion .Values.image.cbutler.tag) -}}
{{- end -}}

{{- define "cb.image.llmNode" -}}
{{- printf "%s:%s" .Values.image.llmNode.repository (default .Chart.AppVersion .Values.image.llmNode.tag) -}}
{{- end -}}

{{- define "cb.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "cb.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "cb.redisHost" -}}
{{- printf "%s-redis" (include "cb.fullname" .) -}}
{{- end -}}

{{- define "cb.llmUrl" -}}
{{- if .Values.llmNode.enabled -}}
{{- printf "http://%s-llm-node:%d/v1" (include "cb.fullname" .) (int .Values.llmNode.port) -}}
{{- else -}}
{{- .Values.llm.url -}}
{{- end -}}
{{- end -}}

{{/* The env every cbutler container shares: the ConfigMap, the Redis URL, its own name. */}}
{{- define "cb.commonEnv" -}}
- name: CBUTLER_NAME
  valueFrom:
    fieldRef:
      fieldPath: metadata.name
- name: OTEL_RESOURCE_ATTRIBUTES
  value: {{ printf "k8s.pod.name=$(CBUTLER_NAME),k8s.namespace.name=%s%s" .Release.Namespace (ternary (printf ",%s" .Values.otel.resourceAttributes) "" (ne .Values.otel.resourceAttributes "")) | quote }}
{{- if not .Values.redis.bundled.enabled }}
- name: CBUTLER_REDIS_URL
  valueFrom:
    secretKeyRef:
      name: {{ include "cb.redisSecretName" . }}
      key: {{ .Values.redis.external.existingSecretKey }}
{{- else if .Values.redis.bundled.auth.enabled }}
- name: REDIS_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "cb.redisAuthSecret" . }}
      key: {{ .Values.redis.bundled.auth.existingSecretKey }}
- name: CBUTLER_REDIS_URL
  value: {{ printf "redis://:$(REDIS_PASSWORD)@%s:6379" (include "cb.redisHost" .) | quote }}
{{- end }}
{{- end -}}

{{/* The Secret holding the bundled Redis's password. */}}
{{- define "cb.redisAuthSecret" -}}
{{- default (printf "%s-redis-auth" (include "cb.fullname" .)) .Values.redis.bundled.auth.existingSecret -}}
{{- end -}}

{{- define "cb.podAnnotations" -}}
{{- if .ctx.Values.metrics.scrapeAnnotations }}
prometheus.io/scrape: "true"
prometheus.io/port: {{ .port | quote }}
prometheus.io/path: /metrics
{{- end }}
{{- with .ctx.Values.podAnnotations }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "cb.tmpVolumes" -}}
- name: home
  emptyDir: {}
- name: tmp
  emptyDir: {}
{{- end -}}

{{- define "cb.tmpMounts" -}}
- name: home
  mountPath: /var/lib/cbutler
- name: tmp
  mountPath: /tmp
{{- end -}}

{{- define "cb.redisSecretName" -}}
{{- default (printf "%s-redis" (include "cb.fullname" .)) .Values.redis.external.existingSecret -}}
{{- end -}}

{{/* NetworkPolicy rules shared by the components. */}}
{{- define "cb.np.dns" -}}
# DNS, to resolve the Services.
- ports:
    - {port: 53, protocol: UDP}
    - {port: 53, protocol: TCP}
{{- end -}}
{{- define "cb.np.redis" -}}
# Redis: the bundled one, or wherever redisTo says.
{{- if .Values.redis.bundled.enabled }}
- to:
    - podSelector:
        matchLabels:
          {{- include "cb.selector" (dict "ctx" . "component" "redis") | nindent 10 }}
  ports:
    - {port: 6379, protocol: TCP}
{{- else }}
- ports:
    {{- range .Values.networkPolicy.redisPorts }}
    - {port: {{ . }}, protocol: TCP}
    {{- end }}
  {{- with .Values.networkPolicy.redisTo }}
  to:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end }}
{{- end -}}
{{- define "cb.np.otlp" -}}
{{- if .Values.otel.endpoint }}
# The OTLP collector.
- ports:
    {{- range .Values.networkPolicy.otlpPorts }}
    - {port: {{ . }}, protocol: TCP}
    {{- end }}
  {{- with .Values.networkPolicy.otlpTo }}
  to:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end }}
{{- end -}}
{{- define "cb.np.metrics" -}}
- from:
    {{- toYaml .ctx.Values.networkPolicy.metricsFrom | nindent 4 }}
  ports:
    - {port: {{ .port }}, protocol: TCP}
{{- end -}}
