/** Minimal types for the parts of jstat (dev-only test oracle) used by the pipeline and interval tests. */
declare module "jstat" {
  interface JStatStatic {
    /** Spearman's ρ: Pearson correlation of average ranks (jStat.rank). */
    spearmancoeff(a: number[], b: number[]): number;
    /** Pearson correlation. */
    corrcoeff(a: number[], b: number[]): number;
    /** Average ranks (ties averaged), 1-based. */
    rank(a: number[]): number[];
    /** Standard deviation; `sample` true: n − 1 denominator. */
    stdev(a: number[], sample?: boolean): number;
    normal: {
      /** Normal CDF at x with mean and sd. */
      cdf(x: number, mean: number, sd: number): number;
    };
    studentt: {
      /** Student-t CDF at x with dof degrees of freedom. */
      cdf(x: number, dof: number): number;
    };
  }
  const jStat: JStatStatic;
  export default jStat;
}
