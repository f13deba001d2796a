/**
 * When each stage of a local run ended, from the progress lines the bus's events turn into (progress.ts), each
 * noted with the time it was seen: the event archive keeps whole seconds only, too coarse for a stage.
 *
 * Stages overlap (the vehicles page is stored while the sensors are still being planned), so each is measured
 * from the end of the one before, as milestones: plan ends at the last PagesPlanned, download at the last
 * PageDownloaded, completion at DownloadsDrained, transform at the SqlFileExecuted of the last file but one,
 * analytics at the end of the run (the last file, EtlDone, the report). Durations are in milliseconds.
 */
export interface StageDurations {
  plan: number;
  download: number;
  completion: number;
  transform: number;
  analytics: number;
}

export class StageTimeline {
  private lastPlanned?: number;
  private lastStored?: number;
  private drained?: number;
  private transformed?: number;

  constructor(private readonly started = performance.now()) {}

  /** Notes a progress line as it is printed. */
  note(line: string, now = performance.now()): void {
    if (line.startsWith('planned ')) this.lastPlanned = now;
    else if (line.startsWith('stored ')) this.lastStored = now;
    else if (line.startsWith('downloads drained')) this.drained = now;
    else {
      // "ran FILE (i/n): ..." — the files before the last one shape the warehouse; the last one asks the question.
      const ran = /^ran .* \((\d+)\/(\d+)\)/.exec(line);
      if (ran && Number(ran[1]) === Number(ran[2]) - 1) this.transformed = now;
    }
  }

  /** Stage durations of a run that ended at `ended`; a stage whose milestone was not seen lasts 0. */
  durations(ended = performance.now()): StageDurations {
    const marks = [this.lastPlanned, this.lastStored, this.drained, this.transformed, ended];
    const durations: number[] = [];
    let previous = this.started;
    for (const mark of marks) {
      const at = mark === undefined ? previous : Math.max(previous, mark);
      durations.push(Math.round(at - previous));
      previous = at;
    }
    const [plan = 0, download = 0, completion = 0, transform = 0, analytics = 0] = durations;
    return { plan, download, completion, transform, analytics };
  }
}
