// Questions each agent answers on the bundled data (the rule-based planner plans all of them);
// the MRIO ones need an MRIO on the server's disk.

export const EXAMPLES = [
  {
    agent: 'trade',
    title: 'Trade and national accounts',
    questions: [
      "How do China's consumption-based CO2 emissions in 2022 compare with its territorial emissions?",
      'What is the carbon footprint of the EU27 in 2020?',
    ],
  },
  {
    agent: 'trade',
    title: 'With an MRIO on the server',
    needsMrio: true,
    questions: [
      'How much CO2 embodied in trade flows between all regions?',
      'Compare consumption-based and production-based CO2 of all regions',
    ],
  },
  {
    agent: 'lca',
    title: 'Life-cycle assessment and CBAM',
    questions: [
      'What is the carbon footprint of 1 m3 of diesel in USLCI?',
      'What will CBAM cost on 10,000 t of Chinese hot-rolled coil in 2027 at 80 EUR/t?',
      'What would CBAM cost on 10,000 t of Chinese hot-rolled coil in 2027 with verified data of 1.9 t/t, at 80 EUR/t?',
    ],
  },
  {
    agent: 'sinks',
    title: 'Natural sinks',
    questions: [
      'How much CO2 do 10,000 ha of tropical rainforest in Africa with a root-to-shoot ratio of 0.37 remove per year?',
    ],
  },
  {
    agent: 'factory',
    title: 'Industrial plants',
    questions: ['How can an EAF steel plant in Germany cut emissions at least cost with a carbon price of 80 EUR/t?'],
  },
  {
    agent: 'uncertainty',
    title: 'Uncertainty',
    questions: ['Which inputs of the Ishigami function matter most?', 'What uncertainty do pedigree scores (2,3,1,4,5) imply?'],
  },
];
