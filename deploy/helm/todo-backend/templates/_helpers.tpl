{{/* Chart name, overridable with nameOverride (an umbrella alias also changes .Chart.Name). */}}
{{- define "todo-backend.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Fully qualified app name: <release>-<name>, or just <release> when it already contains the name.
63 characters at most (DNS label).
*/}}
{{- define "todo-backend.fullname" -}}
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

{{/* chart label value: name-version */}}
{{- define "todo-backend.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels shared by every object (never carry a value from secrets). */}}
{{- define "todo-backend.commonLabels" -}}
helm.sh/chart: {{ include "todo-backend.chart" . }}
app.kubernetes.io/name: {{ include "todo-backend.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: {{ .Values.partOf }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Labels of the API objects (Deployment, Service, ConfigMap, ...). */}}
{{- define "todo-backend.labels" -}}
{{ include "todo-backend.commonLabels" . }}
app.kubernetes.io/component: api
{{- end }}

{{/* Selector labels of the API pods. The component keeps the migration Job's and helm-test pods
out of the Service's endpoints. */}}
{{- define "todo-backend.selectorLabels" -}}
app.kubernetes.io/name: {{ include "todo-backend.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: api
{{- end }}

{{/* Name of the ServiceAccount the pods run as. */}}
{{- define "todo-backend.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "todo-backend.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* Image reference; the tag defaults to the chart's appVersion. */}}
{{- define "todo-backend.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) }}
{{- end }}

{{/* Name of the Secret holding DATABASE_URL / AUTH_SECRET / API keys. */}}
{{- define "todo-backend.secretName" -}}
{{- if .Values.secrets.existingSecret }}
{{- tpl .Values.secrets.existingSecret . }}
{{- else }}
{{- include "todo-backend.fullname" . }}
{{- end }}
{{- end }}

{{/* Secret the migration hook Job reads. A pre-install hook runs before the release's own Secret
exists, so with inline secrets the Job gets its own short-lived hook Secret (deleted once the hook
has run). */}}
{{- define "todo-backend.migrationSecretName" -}}
{{- if .Values.secrets.existingSecret }}
{{- tpl .Values.secrets.existingSecret . }}
{{- else }}
{{- printf "%s-migrate" (include "todo-backend.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{/* True ("true") when any inline secret value is set. */}}
{{- define "todo-backend.hasInlineSecrets" -}}
{{- $s := .Values.secrets -}}
{{- if or $s.databaseUrl $s.authSecret $s.groqApiKey $s.openaiApiKey $s.llmApiKey -}}true{{- end -}}
{{- end }}

{{/*
Validation that JSON schema cannot express. Included from the Deployment so a bad combination
fails `helm install` / `helm template` with a message that names the key.
*/}}
{{- define "todo-backend.validate" -}}
{{- $s := .Values.secrets -}}
{{- if and $s.existingSecret (include "todo-backend.hasInlineSecrets" .) -}}
{{- fail "secrets.existingSecret and inline secrets (secrets.databaseUrl/authSecret/groqApiKey/openaiApiKey/llmApiKey) are mutually exclusive: set one or the other" -}}
{{- end -}}
{{- if and $s.envFromExistingSecret (not $s.existingSecret) -}}
{{- fail "secrets.envFromExistingSecret loads secrets.existingSecret whole: set secrets.existingSecret too" -}}
{{- end -}}
{{- if and .Values.autoscaling.enabled (gt (int .Values.autoscaling.minReplicas) (int .Values.autoscaling.maxReplicas)) -}}
{{- fail (printf "autoscaling.minReplicas (%d) must be <= autoscaling.maxReplicas (%d)" (int .Values.autoscaling.minReplicas) (int .Values.autoscaling.maxReplicas)) -}}
{{- end -}}
{{- if and (not $s.existingSecret) (not $s.databaseUrl) (not .Values.database.urlSecret.name) -}}
{{- fail "a database is required: set secrets.databaseUrl, secrets.existingSecret or database.urlSecret.name (e.g. --set-string secrets.databaseUrl=postgresql://user:pass@host/db?sslmode=require)" -}}
{{- end -}}
{{- if and .Values.service.nodePort (not (has .Values.service.type (list "NodePort" "LoadBalancer"))) -}}
{{- fail (printf "service.nodePort is only used with service.type NodePort or LoadBalancer (service.type is %s)" .Values.service.type) -}}
{{- end -}}
{{- end }}

{{/* Pod-level volumes: writable scratch space on a read-only root filesystem. */}}
{{- define "todo-backend.volumes" -}}
- name: tmp
  emptyDir:
    medium: {{ .Values.tmpVolume.medium | quote }}
    sizeLimit: {{ .Values.tmpVolume.sizeLimit }}
{{- end }}

{{/* Environment that comes from the Secret(s): keys are configurable for existingSecret. */}}
{{- define "todo-backend.secretEnv" -}}
{{- $secretName := .secretName -}}
{{- $ctx := .ctx -}}
{{- $keys := $ctx.Values.secrets.keys -}}
{{- $inline := not $ctx.Values.secrets.existingSecret -}}
{{- if $ctx.Values.database.urlSecret.name }}
- name: DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ tpl $ctx.Values.database.urlSecret.name $ctx }}
      key: {{ $ctx.Values.database.urlSecret.key }}
{{- else if not (include "todo-backend.envFromSecret" $ctx) }}
- name: DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ $secretName }}
      key: {{ $keys.databaseUrl }}
{{- end }}
{{- if not (include "todo-backend.envFromSecret" $ctx) }}
- name: AUTH_SECRET
  valueFrom:
    secretKeyRef:
      name: {{ $secretName }}
      key: {{ $keys.authSecret }}
{{- end }}
{{- if and (not .migration) (not (include "todo-backend.envFromSecret" $ctx)) }}
{{- range $env, $field := dict "GROQ_API_KEY" "groqApiKey" "OPENAI_API_KEY" "openaiApiKey" "LLM_API_KEY" "llmApiKey" }}
{{- if or (not $inline) (index $ctx.Values.secrets $field) }}
- name: {{ $env }}
  valueFrom:
    secretKeyRef:
      name: {{ $secretName }}
      key: {{ index $keys $field }}
      optional: true
{{- end }}
{{- end }}
{{- end }}
{{- end }}

{{/* Init container script: wait (bounded) until `todo-api migrate --check` says the database is usable.
Exit codes of --check: 0 schema at head, 3 migrations pending, 1 unreachable, 2 configuration error. */}}
{{- define "todo-backend.waitScript" -}}
{{- $timeout := int .ctx.Values.waitForDatabase.timeoutSeconds -}}
deadline=$(( $(date +%s) + {{ $timeout }} ))
while :; do
  todo-api migrate --check; rc=$?
  [ "$rc" -eq 0 ] && break
  {{- if eq .mode "database" }}
  [ "$rc" -eq 3 ] && { echo "database reachable, migrations pending"; break; }
  {{- end }}
  [ "$rc" -eq 2 ] && exit 2
  if [ "$(date +%s)" -ge "$deadline" ]; then
    echo "gave up after {{ $timeout }}s (last exit code $rc: 1 = database unreachable, 3 = migrations pending: check the migration Job)" >&2
    exit 1
  fi
  sleep 3
done
{{- end }}

{{/* "true" when the whole existing Secret is loaded with envFrom (secrets.envFromExistingSecret). */}}
{{- define "todo-backend.envFromSecret" -}}
{{- if and .Values.secrets.existingSecret .Values.secrets.envFromExistingSecret -}}true{{- end -}}
{{- end }}

{{/* envFrom entries of a container: the ConfigMap (not for the migration hook, which can run
before it exists), then the existing Secret when it is loaded whole. */}}
{{- define "todo-backend.envFrom" -}}
{{- if .configMap }}
- configMapRef:
    name: {{ include "todo-backend.fullname" .ctx }}
{{- end }}
{{- if include "todo-backend.envFromSecret" .ctx }}
- secretRef:
    name: {{ include "todo-backend.secretName" .ctx }}
{{- end }}
{{- end }}
