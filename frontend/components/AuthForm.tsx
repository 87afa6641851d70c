"use client";

import Link from "next/link";
import { useRouter } from "next/navigation";
import { useState, type FormEvent } from "react";

import { ApiError, api, errorMessage } from "@/lib/api";
import { emailProblem, type FieldErrors } from "@/lib/errors";
import type { User } from "@/lib/types";

import FieldError, { fieldA11y } from "./FieldError";

import styles from "./AuthForm.module.css";

interface Props {
  mode: "signin" | "signup";
  notice?: string;
}

// The backend's rule (core/passwords.py MIN_LENGTH), checked here first to save a round trip.
const MIN_PASSWORD = 8;

export default function AuthForm({ mode, notice }: Props) {
  const router = useRouter();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [name, setName] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [fields, setFields] = useState<FieldErrors>({});
  const [busy, setBusy] = useState(false);
  const signup = mode === "signup";

  /** A field being corrected is no longer marked wrong. */
  function clearFieldError(field: string) {
    if (!fields[field]) return;
    setFields((current) => Object.fromEntries(Object.entries(current).filter(([name]) => name !== field)));
  }

  /** Show per-field problems and put the cursor in the first field that has one. */
  function showFieldErrors(problems: FieldErrors): boolean {
    setFields(problems);
    const first = ["name", "email", "password"].find((f) => problems[f]);
    if (first) document.getElementById(first)?.focus();
    return Boolean(first);
  }

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setError(null);
    const problems: FieldErrors = {};
    const badEmail = emailProblem(email);
    if (badEmail) problems.email = badEmail;
    if (!password) problems.password = "Enter your password.";
    else if (signup && password.length < MIN_PASSWORD) problems.password = `Use at least ${MIN_PASSWORD} characters.`;
    if (showFieldErrors(problems)) return;
    setBusy(true);
    try {
      const body = signup ? { email: email.trim(), password, name: name.trim() } : { email: email.trim(), password };
      await api<{ user: User }>(signup ? "/api/auth/signup" : "/api/auth/login", { method: "POST", body });
      router.replace("/");
      router.refresh();
    } catch (err) {
      // A 422 names the fields: show each message under its field, not one line for the form.
      if (!(err instanceof ApiError && showFieldErrors(err.fields))) setError(errorMessage(err));
      setBusy(false);
    }
  }

  return (
    <main className={styles.page}>
      <div className={styles.card}>
        <div className={styles.brand} aria-hidden="true">
          ✓
        </div>
        <h1 className={styles.title}>{signup ? "Create your account" : "Welcome back"}</h1>
        <p className={styles.subtitle}>
          {signup
            ? "Keep your tasks on a board and manage them by chatting with the assistant."
            : "Sign in to see your tasks and talk to your assistant."}
        </p>
        {notice && !error && (
          <p className={styles.notice} role="status">
            {notice}
          </p>
        )}
        <form onSubmit={onSubmit} className={styles.form} noValidate aria-describedby={error ? "auth-error" : undefined}>
          {signup && (
            <div className={styles.field}>
              <label htmlFor="name">Name (optional)</label>
              <input
                id="name"
                name="name"
                autoComplete="name"
                // The first field gets the cursor: the page exists to fill this form.
                autoFocus
                value={name}
                onChange={(e) => {
                setName(e.target.value);
                clearFieldError("name");
              }}
                maxLength={100}
                {...fieldA11y("name", fields.name)}
              />
              <FieldError fieldId="name" message={fields.name} />
            </div>
          )}
          <div className={styles.field}>
            <label htmlFor="email">Email</label>
            <input
              id="email"
              name="email"
              type="email"
              autoComplete="email"
              required
              autoFocus={!signup}
              value={email}
              onChange={(e) => {
                setEmail(e.target.value);
                clearFieldError("email");
              }}
              {...fieldA11y("email", fields.email)}
            />
            <FieldError fieldId="email" message={fields.email} />
          </div>
          <div className={styles.field}>
            <label htmlFor="password">Password</label>
            <input
              id="password"
              name="password"
              type="password"
              autoComplete={signup ? "new-password" : "current-password"}
              required
              minLength={signup ? MIN_PASSWORD : undefined}
              value={password}
              onChange={(e) => {
                setPassword(e.target.value);
                clearFieldError("password");
              }}
              {...fieldA11y("password", fields.password, signup ? "password-hint" : undefined)}
            />
            {signup && (
              <span id="password-hint" className={styles.hint}>
                At least {MIN_PASSWORD} characters, not a common password.
              </span>
            )}
            <FieldError fieldId="password" message={fields.password} />
          </div>
          {error && (
            <div id="auth-error" className="alert" role="alert">
              {error}
            </div>
          )}
          <button type="submit" className={`btn btn-primary ${styles.submit}`} disabled={busy}>
            {busy && <span className="spinner" aria-hidden="true" />}
            {signup ? (busy ? "Creating account…" : "Create account") : busy ? "Signing in…" : "Sign in"}
          </button>
        </form>
        <p className={styles.switch}>
          {signup ? (
            <>
              Already have an account? <Link href="/signin">Sign in</Link>
            </>
          ) : (
            <>
              New here? <Link href="/signup">Create an account</Link>
            </>
          )}
        </p>
      </div>
    </main>
  );
}
