// RocketMQ's broker refuses every write once its disk is 90% used, with an error naming no path
// (a fresh-clone run lost 4 event tests to it): starting one on such a disk must say so up front.
import { describe, expect, it } from 'vitest';
import { diskRoomProblem } from '../../scripts/infra/rocketmq.js';

const GiB = 2 ** 30;

describe("the broker's disk room", () => {
  it('names the disk, how full it is and what is left when the broker would refuse writes', () => {
    // What df said that day: 90 GB used, 1.4 GB available (the rest reserved).
    const problem = diskRoomProblem({ usedBytes: 90 * GiB, availableBytes: 1.4 * GiB }, '/tmp/freechat-test-infra-x');
    expect(problem).toContain('/tmp/freechat-test-infra-x');
    expect(problem).toContain('98% used');
    expect(problem).toContain('1.4 GiB free');
  });

  it('lets the broker start with room to spare, and warns a little before its own limit', () => {
    expect(diskRoomProblem({ usedBytes: 68 * GiB, availableBytes: 24 * GiB }, '/tmp')).toBeUndefined();
    expect(diskRoomProblem({ usedBytes: 87 * GiB, availableBytes: 13 * GiB }, '/tmp')).toBeUndefined();
    expect(diskRoomProblem({ usedBytes: 89 * GiB, availableBytes: 11 * GiB }, '/tmp')).toContain('89% used');
  });
});
