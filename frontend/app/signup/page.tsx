import type { Metadata } from "next";
import { cookies } from "next/headers";
import { redirect } from "next/navigation";

import AuthForm from "@/components/AuthForm";
import { SESSION_COOKIE } from "@/lib/session";

export const dynamic = "force-dynamic";
export const metadata: Metadata = { title: "Create account · Todo Chatbot" };

export default async function SignUpPage() {
  const jar = await cookies();
  if (jar.has(SESSION_COOKIE)) redirect("/");
  return <AuthForm mode="signup" />;
}
