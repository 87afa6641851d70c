import type { Metadata, Viewport } from "next";

import "./globals.css";

// Every page is rendered per request: the CSP nonce from proxy.ts must reach its scripts.
export const dynamic = "force-dynamic";

export const metadata: Metadata = {
  title: "Todo Chatbot",
  description: "Your tasks, managed on a board or by chatting with an assistant.",
};

export const viewport: Viewport = {
  width: "device-width",
  initialScale: 1,
  themeColor: "#4338ca",
};

export default function RootLayout({ children }: Readonly<{ children: React.ReactNode }>) {
  return (
    <html lang="en">
      <body>{children}</body>
    </html>
  );
}
