/**
 * When each stage of a local run ended, from the progress lines the bus's events turn into (progress.ts), each
 * noted with the time it was seen: the event archive keeps whole seconds only, too coarse for a stage.
 *
 * Stages overlap (the vehicles page is stored while the sensors are still being planned), so each is measured
 * from the end of the one before, as milestones: plan ends at the last PagesPlanned, download at the last
 * PageDownloaded, completion at DownloadsDrained, transform at the SqlFileExecuted of the last file but one,
 * analytics at the end of the run (the last file, EtlDone, the report). Durations are in milliseconds.
 *
 * Each milestone also notes the process's CPU time so far (user + system, every thread: the simulator's and
 * DuckDB's included), so that the CPU a stage cost can be told apart from its wall time on a busy machine.
 */
export interface StageDurations {
  plan: number;
  download: number;
  completion: number;
  transform: number;
  analytics: number;
}

/** A moment of the run: wall time (performance.now) and the process's CPU time so far, both in milliseconds. */
export interface Moment {
  wall: number;
  cpu: number;
}

/** Now, as a Moment. */
export function moment(): Moment {
  const { user, system } = process.cpuUsage();
  return { wall: performance.now(), cpu: (user + system) / 1000 };
}

export class StageTimeline {
  private lastPlanned?: Moment;
  private lastStored?: Moment;
  private drained?: Moment;
  private transformed?: Moment;

  constructor(private readonly started: Moment = moment()) {}

  /** Notes a progress line as it is printed. */
  note(line: string, now: Moment = moment()): void {
    if (line.startsWith('planned ')) this.lastPlanned = now;
    else if (line.startsWith('stored ')) this.lastStored = now;
    else if (line.startsWith('downloads drained')) this.drained = now;
    else {
      // "ran FILE (i/n): ..." — the files before the last one shape the warehouse; the last one asks the question.
      const ran = /^ran .* \((\d+)\/(\d+)\)/.exec(line);
      if (ran && Number(ran[1]) === Number(ran[2]) - 1) this.transformed = now;
    }
  }

  /** Stage durations of a run that ended at `ended`, in wall time; a stage whose milestone was not seen lasts 0. */
  durations(ended: Moment = moment()): StageDurations {
    return this.between(ended, 'wall');
  }

  /** The same stages in CPU time: what the whole process spent from one milestone to the next. */
  cpuDurations(ended: Moment = moment()): StageDurations {
    return this.between(ended, 'cpu');
  }

  private between(ended: Moment, clock: keyof Moment): StageDurations {
    const marks = [this.lastPlanned, this.lastStored, this.drained, this.transformed, ended];
    const durations: number[] = [];
    let previous = this.started[clock];
    for (const mark of marks) {
      const at = mark === undefined ? previous : Math.max(previous, mark[clock]);
      durations.push(Math.round(at - previous));
      previous = at;
    }
    const [plan = 0, download = 0, completion = 0, transform = 0, analytics = 0] = durations;
    return { plan, download, completion, transform, analytics };
  }
}
