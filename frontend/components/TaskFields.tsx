"use client";
// The fields shared by the "add task" form and the inline editor.
import type { Priority, TaskInput } from "@/lib/types";

import styles from "./Board.module.css";
import FieldError, { fieldA11y } from "./FieldError";

interface Props {
  idPrefix: string;
  value: TaskInput;
  onChange: (value: TaskInput) => void;
  titleRef?: React.Ref<HTMLInputElement>;
  compact?: boolean;
  /** A problem with the title, shown under it and tied to it for screen readers. */
  titleError?: string | null;
}

export default function TaskFields({ idPrefix, value, onChange, titleRef, compact, titleError }: Props) {
  return (
    <div className={compact ? styles.fieldsCompact : styles.fields}>
      <div className={`${styles.field} ${styles.titleField}`}>
        <label htmlFor={`${idPrefix}-title`}>Title</label>
        <input
          id={`${idPrefix}-title`}
          ref={titleRef}
          value={value.title}
          maxLength={200}
          required
          placeholder="What needs doing?"
          {...fieldA11y(`${idPrefix}-title`, titleError)}
          onChange={(e) => onChange({ ...value, title: e.target.value })}
        />
        <FieldError fieldId={`${idPrefix}-title`} message={titleError} />
      </div>
      <div className={styles.field}>
        <label htmlFor={`${idPrefix}-priority`}>Priority</label>
        <select
          id={`${idPrefix}-priority`}
          value={value.priority}
          onChange={(e) => onChange({ ...value, priority: e.target.value as Priority })}
        >
          <option value="low">Low</option>
          <option value="medium">Medium</option>
          <option value="high">High</option>
        </select>
      </div>
      <div className={styles.field}>
        <label htmlFor={`${idPrefix}-due`}>Due date</label>
        <input
          id={`${idPrefix}-due`}
          type="date"
          value={value.due_date ?? ""}
          // No date, no time: the API refuses a due time without a due date.
          onChange={(e) => onChange({ ...value, due_date: e.target.value || null, ...(e.target.value ? {} : { due_time: null }) })}
        />
      </div>
      <div className={styles.field}>
        <label htmlFor={`${idPrefix}-due-time`}>Time</label>
        <input
          id={`${idPrefix}-due-time`}
          type="time"
          value={value.due_time ?? ""}
          disabled={!value.due_date}
          title={value.due_date ? undefined : "Pick a due date first"}
          onChange={(e) => onChange({ ...value, due_time: e.target.value || null })}
        />
      </div>
      <div className={`${styles.field} ${styles.descriptionField}`}>
        <label htmlFor={`${idPrefix}-description`}>Description</label>
        <textarea
          id={`${idPrefix}-description`}
          value={value.description}
          maxLength={2000}
          rows={2}
          placeholder="Details (optional)"
          onChange={(e) => onChange({ ...value, description: e.target.value })}
        />
      </div>
    </div>
  );
}
