{{/* Chart name, overridable with nameOverride. */}}
{{- define "todo-chatbot.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Fully qualified name: <release>-<name>, or <release> when it already contains the name. */}}
{{- define "todo-chatbot.fullname" -}}
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
{{- define "todo-chatbot.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels of the umbrella's own objects (without the component). */}}
{{- define "todo-chatbot.labels" -}}
helm.sh/chart: {{ include "todo-chatbot.chart" . }}
app.kubernetes.io/name: {{ include "todo-chatbot.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: todo-chatbot
{{- end }}

{{/* Selector labels of the umbrella's own pods (the component is added per workload). */}}
{{- define "todo-chatbot.selectorLabels" -}}
app.kubernetes.io/name: {{ include "todo-chatbot.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* ServiceAccount of the umbrella's own pods (PostgreSQL, helm test). */}}
{{- define "todo-chatbot.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "todo-chatbot.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* --- PostgreSQL -------------------------------------------------------------------------- */}}
{{- define "todo-chatbot.postgresql.fullname" -}}
{{- default (printf "%s-postgresql" .Release.Name) .Values.postgresql.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "todo-chatbot.postgresql.labels" -}}
{{ include "todo-chatbot.labels" . }}
app.kubernetes.io/component: database
{{- end }}

{{- define "todo-chatbot.postgresql.selectorLabels" -}}
{{ include "todo-chatbot.selectorLabels" . }}
app.kubernetes.io/component: database
{{- end }}

{{- define "todo-chatbot.postgresql.secretName" -}}
{{- default (include "todo-chatbot.postgresql.fullname" .) .Values.postgresql.auth.existingSecret }}
{{- end }}

{{/* Name label of the backend subchart's pods (its alias, unless nameOverride is set). */}}
{{- define "todo-chatbot.backendName" -}}
{{- default "backend" .Values.backend.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Cross-chart checks that one subchart's schema cannot see. */}}
{{- define "todo-chatbot.validate" -}}
{{- $urlSecret := .Values.backend.database.urlSecret.name | default "" -}}
{{- if .Values.postgresql.enabled -}}
{{- if has "pre-install" .Values.backend.migrations.hookEvents -}}
{{- fail "postgresql.enabled=true creates the database in this release, after pre-install hooks run: set backend.migrations.hookEvents to [post-install, pre-upgrade] (and backend.waitForDatabase.mode=database)" -}}
{{- end -}}
{{- if and (eq .Values.backend.waitForDatabase.mode "schema") (not (has "pre-install" .Values.backend.migrations.hookEvents)) .Values.backend.waitForDatabase.enabled -}}
{{- fail "backend.waitForDatabase.mode=schema waits for migrations that a post-install hook only runs after the pods are ready (helm --wait would time out): use backend.waitForDatabase.mode=database with postgresql.enabled=true" -}}
{{- end -}}
{{- if and (not $urlSecret) (not .Values.backend.secrets.databaseUrl) (not .Values.backend.secrets.existingSecret) -}}
{{- fail "postgresql.enabled=true but backend.database.urlSecret.name is empty: keep its default \"{{ .Release.Name }}-postgresql\" so the API uses the in-cluster database" -}}
{{- end -}}
{{- else if contains "-postgresql" $urlSecret -}}
{{- if eq (tpl $urlSecret .) (include "todo-chatbot.postgresql.fullname" .) -}}
{{- fail "postgresql.enabled=false: the in-cluster database is off, so set backend.database.urlSecret.name=\"\" and give the database with backend.secrets.databaseUrl or backend.secrets.existingSecret (see values-external-db.yaml)" -}}
{{- end -}}
{{- end -}}
{{- end }}

{{/* Object names the subcharts give themselves (same rule as their fullname helpers). */}}
{{- define "todo-chatbot.subFullname" -}}
{{- $values := index .ctx.Values .alias -}}
{{- if $values.fullnameOverride -}}
{{- $values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .alias $values.nameOverride -}}
{{- if contains $name .ctx.Release.Name -}}
{{- .ctx.Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .ctx.Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end }}
