"use client";

import Link from "next/link";
import { useRouter } from "next/navigation";
import { useState, type FormEvent } from "react";

import { api, errorMessage } from "@/lib/api";
import type { User } from "@/lib/types";

import styles from "./AuthForm.module.css";

interface Props {
  mode: "signin" | "signup";
  notice?: string;
}

export default function AuthForm({ mode, notice }: Props) {
  const router = useRouter();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [name, setName] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const signup = mode === "signup";

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setError(null);
    if (signup && password.length < 8) {
      setError("Password: use at least 8 characters.");
      return;
    }
    setBusy(true);
    try {
      const body = signup ? { email: email.trim(), password, name: name.trim() } : { email: email.trim(), password };
      await api<{ user: User }>(signup ? "/api/auth/signup" : "/api/auth/login", { method: "POST", body });
      router.replace("/");
      router.refresh();
    } catch (err) {
      setError(errorMessage(err));
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
              <input id="name" name="name" autoComplete="name" value={name} onChange={(e) => setName(e.target.value)} maxLength={100} />
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
              value={email}
              onChange={(e) => setEmail(e.target.value)}
              aria-invalid={error ? true : undefined}
            />
          </div>
          <div className={styles.field}>
            <label htmlFor="password">Password</label>
            <input
              id="password"
              name="password"
              type="password"
              autoComplete={signup ? "new-password" : "current-password"}
              required
              minLength={signup ? 8 : undefined}
              value={password}
              onChange={(e) => setPassword(e.target.value)}
              aria-invalid={error ? true : undefined}
              aria-describedby={signup ? "password-hint" : undefined}
            />
            {signup && (
              <span id="password-hint" className={styles.hint}>
                At least 8 characters.
              </span>
            )}
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
