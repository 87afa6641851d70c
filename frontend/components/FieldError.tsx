// A validation message under its field. The field points at it with aria-describedby and is
// marked aria-invalid (see fieldA11y), so a screen reader reads the message with the field.
export function fieldErrorId(fieldId: string): string {
  return `${fieldId}-error`;
}

/** Props for the input: invalid state and the ids that describe it (its own hint first). */
export function fieldA11y(fieldId: string, error: string | null | undefined, hintId?: string) {
  const ids = [hintId, error ? fieldErrorId(fieldId) : undefined].filter(Boolean).join(" ");
  return { "aria-invalid": error ? true : undefined, "aria-describedby": ids || undefined } as const;
}

export default function FieldError({ fieldId, message }: { fieldId: string; message: string | null | undefined }) {
  if (!message) return null;
  return (
    <p id={fieldErrorId(fieldId)} className="field-error" role="alert">
      {message}
    </p>
  );
}
