import { cookies } from "next/headers";
import { redirect } from "next/navigation";

import Dashboard from "@/components/Dashboard";
import { SESSION_COOKIE } from "@/lib/session";

export const dynamic = "force-dynamic";

export default async function Home() {
  const jar = await cookies();
  if (!jar.has(SESSION_COOKIE)) redirect("/signin");
  return <Dashboard />;
}
