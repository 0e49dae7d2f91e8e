/**
 * User story: "My source model classifies English news as relevant or not. My target is German
 * news sorted into ten topics. What kind of transfer problem is that, by the book?"
 *
 * Run: npx tsx examples/classify-scenario.ts
 * It builds Pan & Yang's document-classification examples with the typed factories and prints the
 * scenario report for each: the scenario, the learning setting and every comparison with its basis.
 */
import { either as E, function as F } from 'fp-ts';
import {
  binary,
  categorical,
  classifyScenario,
  domain,
  featureSpace,
  task,
  transferProblem,
  unobservedMarginal,
  type ScenarioEvidence,
  type TransferError,
} from 'transferkit';

const report = (title: string, evidence?: ScenarioEvidence) => (built: E.Either<TransferError, Parameters<typeof classifyScenario>[0]>) => {
  const result = F.pipe(built, E.chain((problem) => classifyScenario(problem, evidence)));
  console.log(`== ${title}`);
  if (E.isLeft(result)) console.log(`error: ${result.left.message}\n`);
  else console.log(`${result.right.summary}\n${result.right.warnings.map((w) => `warning: ${w}\n`).join('')}`);
};

const built = F.pipe(
  E.Do,
  E.bind('english', () => featureSpace({ id: 'bag-of-words-en', shape: [5000] })),
  E.bind('german', () => featureSpace({ id: 'bag-of-words-de', shape: [5000] })),
  E.bind('relevance', () => F.pipe(binary('relevant', 'irrelevant'), E.chain((labels) => task(labels, 'editor-relevance')))),
  E.bind('topics', () =>
    F.pipe(
      categorical(['world', 'business', 'tech', 'science', 'health', 'sports', 'arts', 'style', 'travel', 'food']),
      E.chain((labels) => task(labels)),
    ),
  ),
  E.bind('news', ({ english }) => domain(english, unobservedMarginal('reuters-en'))),
  E.bind('blogs', ({ english }) => domain(english, unobservedMarginal('blogs-en'))),
  E.bind('germanNews', ({ german }) => domain(german, unobservedMarginal('reuters-de'))),
);

if (E.isLeft(built)) {
  console.log(`error: ${built.left.message}`);
} else {
  const { news, blogs, germanNews, relevance, topics } = built.right;
  const source = { domain: news, task: relevance };
  report('Ten topics instead of relevant/irrelevant: the label space differs')(transferProblem({ source, target: { domain: news, task: topics } }));
  report('German instead of English: the feature space differs')(transferProblem({ source, target: { domain: germanNews, task: relevance } }));
  report('Blogs instead of news, nothing measured: honest about what is unknown')(transferProblem({ source, target: { domain: blogs, task: relevance } }));
  report('Blogs instead of news, with a measured MMD test', { marginal: { statistic: 'mmd2', value: 0.031, pValue: 0.002 } })(
    transferProblem({ source, target: { domain: blogs, task: relevance } }),
  );
  report('German news in ten topics: both differ')(transferProblem({ source, target: { domain: germanNews, task: topics } }));
  report('Blogs, unlabelled, in ten topics: transductive and the labels differ')(
    transferProblem({ source, target: { domain: blogs, task: topics }, labels: { source: true, target: false } }),
  );
}
