/** A span of time, as aws-cdk's `Duration`: `Duration.millis(500)`, `Duration.seconds(10)`. */
export class Duration {
  /** A duration in milliseconds. */
  public static millis(amount: number): Duration {
    return new Duration(amount);
  }

  /** A duration in seconds. */
  public static seconds(amount: number): Duration {
    return new Duration(amount * 1000);
  }

  /** A duration in minutes. */
  public static minutes(amount: number): Duration {
    return new Duration(amount * 60_000);
  }

  /** A duration in hours. */
  public static hours(amount: number): Duration {
    return new Duration(amount * 3_600_000);
  }

  private constructor(private readonly ms: number) {}

  /** The duration in milliseconds. */
  public toMilliseconds(): number {
    return this.ms;
  }

  /** The duration in seconds (may be fractional). */
  public toSeconds(): number {
    return this.ms / 1000;
  }

  /** Go's duration syntax in whole minutes and hours, e.g. `1h30m` (locksmithd's window length). */
  public toGoMinutes(): string {
    const minutes = Math.round(this.ms / 60_000);
    const h = Math.floor(minutes / 60);
    const m = minutes % 60;
    return `${h ? `${h}h` : ""}${m || !h ? `${m}m` : ""}`;
  }

  /** `500ms`, `10s`: readable in messages and configs. */
  public toString(): string {
    return this.ms % 1000 === 0 ? `${this.ms / 1000}s` : `${this.ms}ms`;
  }
}
