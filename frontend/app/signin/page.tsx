import type { Metadata } from "next";
import { cookies } from "next/headers";
import { redirect } from "next/navigation";

import AuthForm from "@/components/AuthForm";
import { SESSION_COOKIE } from "@/lib/session";

export const dynamic = "force-dynamic";
export const metadata: Metadata = { title: "Sign in · Todo Chatbot" };

export default async function SignInPage({ searchParams }: { searchParams: Promise<{ expired?: string }> }) {
  const jar = await cookies();
  if (jar.has(SESSION_COOKIE)) redirect("/");
  const { expired } = await searchParams;
  return <AuthForm mode="signin" notice={expired ? "Your session has ended. Please sign in again." : undefined} />;
}
