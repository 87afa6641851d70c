"use client";
// The board's two choices: which due dates (All / Today / Overdue) and which status (All / Open /
// Completed). Counts come with the page of tasks (TaskPage.counts), never from extra requests.
import type { BoardStatus } from "@/lib/board-state";
import type { DueFilter, TaskCounts } from "@/lib/types";

import styles from "./Board.module.css";

const VIEWS: { key: DueFilter; label: string; count: keyof TaskCounts }[] = [
  { key: "any", label: "All tasks", count: "all" },
  { key: "today", label: "Today", count: "today" },
  { key: "overdue", label: "Overdue", count: "overdue" },
];

const STATUSES: { key: BoardStatus; label: string; count: keyof TaskCounts }[] = [
  { key: "all", label: "All", count: "all" },
  { key: "open", label: "Open", count: "open" },
  { key: "completed", label: "Completed", count: "completed" },
];

interface Props {
  view: DueFilter;
  status: BoardStatus;
  counts: TaskCounts | null;
  onView: (view: DueFilter) => void;
  onStatus: (status: BoardStatus) => void;
}

export default function ViewTabs({ view, status, counts, onView, onStatus }: Props) {
  return (
    <div className={styles.viewBar}>
      <div className={styles.filters} role="group" aria-label="View">
        {VIEWS.map((v) => (
          <button
            key={v.key}
            type="button"
            className={`${styles.filter} ${v.key === "overdue" && counts?.overdue ? styles.filterAlert : ""}`}
            aria-pressed={view === v.key}
            onClick={() => onView(v.key)}
          >
            {v.label}
            {counts && <span className={styles.count}>{counts[v.count]}</span>}
          </button>
        ))}
      </div>
      <div className={styles.filters} role="group" aria-label="Status">
        {STATUSES.map((s) => (
          <button key={s.key} type="button" className={styles.filter} aria-pressed={status === s.key} onClick={() => onStatus(s.key)}>
            {s.label}
            {counts && <span className={styles.count}>{counts[s.count]}</span>}
          </button>
        ))}
      </div>
    </div>
  );
}
