import { StageTimeline } from '../../../cli/stage-timeline.js';

describe('StageTimeline', () => {
  it('measures each stage from the end of the one before, by the progress lines of its milestones', () => {
    // Prepare
    const timeline = new StageTimeline({ wall: 1_000, cpu: 500 });
    const lines: [number, string][] = [
      [1_100, 'planned vehicles: 1 page(s) of up to 50,000 rows'],
      [1_300, 'planned sensors: 3 page(s) of up to 50,000 rows'],
      [1_250, 'stored vehicles page 1: 20 rows, 1.7 KiB'],
      [2_300, 'stored sensors page 3: 50,000 rows, 5.3 MiB'],
      [2_310, 'downloads drained: vehicles 1 page(s) / 20 rows, sensors 3 page(s) / 150,000 rows'],
      [2_400, 'ran 10_raw_tables.sql (1/3): 2 statement(s) in 80 ms'],
      [2_900, 'ran 30_sensor_data.sql (2/3): 2 statement(s) in 500 ms'],
      [3_000, 'ran 40_answer.sql (3/3): 1 statement(s) in 100 ms'],
      [3_010, 'EtlDone: 3 SQL file(s), results: answer'],
    ];

    // Act
    for (const [at, line] of lines) timeline.note(line, { wall: at, cpu: at * 2 });
    const durations = timeline.durations({ wall: 3_050, cpu: 6_500 });
    const cpu = timeline.cpuDurations({ wall: 3_050, cpu: 6_500 });

    // Assess
    expect(durations).toEqual({ plan: 300, download: 1_000, completion: 10, transform: 590, analytics: 150 });
    // CPU between the same milestones (the process's CPU ran at twice the wall clock here, from 500 ms at the start).
    expect(cpu).toEqual({ plan: 2_100, download: 2_000, completion: 20, transform: 1_180, analytics: 700 });
  });

  it('gives a stage whose milestone never came no time, and the rest to the next', () => {
    const timeline = new StageTimeline({ wall: 0, cpu: 0 });
    timeline.note('planned sensors: 1 page(s) of up to 50,000 rows', { wall: 100, cpu: 100 });

    expect(timeline.durations({ wall: 400, cpu: 400 })).toEqual({
      plan: 100,
      download: 0,
      completion: 0,
      transform: 0,
      analytics: 300,
    });
  });
});
