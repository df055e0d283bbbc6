// Templates: the list (`#/templates`) with the create wizard, and a
// template's detail (`#/templates/<uuid>`).
import { PageProps } from '../../app/pages';
import { Detail } from './Detail';
import { TemplateList } from './List';

export default function Page({ rest }: PageProps) {
  return rest[0] ? <Detail uuid={rest[0]} /> : <TemplateList />;
}
