import Link from "next/link";

import styles from "./not-found.module.css";

export default function NotFound() {
  return (
    <main className={styles.page}>
      <h1>Page not found</h1>
      <p>There is nothing at this address.</p>
      <Link href="/" className="btn btn-primary">
        Go to your tasks
      </Link>
    </main>
  );
}
